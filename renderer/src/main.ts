/** Entry: mount the app. Sign-in and the live stream start inside app.vue. */
import { createApp } from 'vue';
import App from './app.vue';
import './style.css';

createApp(App).mount('#app');
