/** Why a microkernel task failed, and the fix the UI shows with it (contract/agent-tasks.ts TASK_FAILURES). */
import type { TaskFailureCode } from '../../contract/agent-tasks.ts';

/** The operator's fix for each failure. */
export const TASK_FAILURE_FIXES: Record<TaskFailureCode, string> = {
  'no-fitting-disk':
    'Give the machine a disk at least as large as the image, or correct the root device hints (policy metadata root_device), then retry (reinstall).',
  'checksum-mismatch':
    'The image or a disk is damaged: re-import the image (crashcart image import --disk) and check the node\u2019s disk and memory (burn-in), then retry.',
  'download-failed': 'The node could not download the image from the node plane: check the network between node and appliance, then retry.',
  'write-error':
    'The disk refused a write: check its health (SMART, dmesg in the microkernel) or choose another disk with root_device, then retry.',
  'seed-failed':
    'The first-boot seed could not be written into the image\u2019s root filesystem (ext2/3/4 needed): use an image with an ext4 root, or import it with --first-boot none.',
  'tools-failed':
    'The microkernel\u2019s task tools (tools.img) are missing or damaged: rebuild the microkernel (npm run build:microkernel) or re-import it.',
  'erase-failed': 'A disk could not be erased: see the per-disk notes; replace or erase the disk by other means.',
  'burn-in-failed': 'The machine failed its burn-in: see the results; check CPU cooling, memory and disks.',
  'no-callback':
    'The installed OS did not call back in time: check the boot order (network first, then the disk), that the firmware can boot the image (BIOS/UEFI), and the node\u2019s console; then retry.',
  internal: 'Unexpected failure: see the appliance log and the node\u2019s events, then retry.',
};

/** A failure detected on the appliance side (before the job reaches the agent). */
export class TaskError extends Error {
  constructor(
    readonly code: TaskFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}
