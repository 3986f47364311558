/** Tags: named rules over facts, validated on save, evaluated on registration and on rule changes. */
import type { Facts, Tag, TagInput } from '../../contract/index.ts';
import type { Collection } from '../store/collection.ts';
import type { TagDoc } from '../store/docs.ts';
import { validateRule, createsCycle, referencedTags, readsNode } from '../rules/validate.ts';
import { explainRule, type Explained, type RuleNode } from '../rules/evaluate.ts';
import { PatternCache } from '../rules/safe-regex.ts';

/** `like` patterns kept compiled: every tag's plus recent dry-runs'. */
const PATTERN_CACHE_SIZE = 1024;
import { ccError } from '../errors/cc-error.ts';

/** Tag storage and evaluation (rules cached in memory). */
export class TagService {
  private rules = new Map<string, TagDoc>();
  private readonly patterns = new PatternCache(PATTERN_CACHE_SIZE);

  private constructor(private readonly col: Collection<TagDoc>) {}

  /** Load all tags. */
  static async open(col: Collection<TagDoc>): Promise<TagService> {
    const s = new TagService(col);
    for (const t of await col.find()) s.rules.set(t.name, t);
    return s;
  }

  /** Rules by tag name (for ["tag", x]). */
  ruleMap(): Map<string, unknown> {
    return new Map([...this.rules.values()].map((t) => [t.name, t.rule]));
  }

  /** All tags, by name. */
  list(): TagDoc[] {
    return [...this.rules.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One tag. */
  get(name: string): TagDoc | undefined {
    return this.rules.get(name);
  }

  /** Throw CC_ERR_RULE_INVALID with every problem, naming positions. */
  check(name: string | null, rule: unknown): void {
    const names = new Set(this.rules.keys());
    const problems = validateRule(rule, names);
    if (problems.length) throw ccError('CC_ERR_RULE_INVALID', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { problems });
    if (name && createsCycle(name, rule, this.ruleMap()))
      throw ccError('CC_ERR_RULE_INVALID', `rule: tag "${name}" would refer to itself through ${referencedTags(rule).join(', ')}`);
  }

  /** Create or replace a tag. */
  async put(input: TagInput, mustBeNew: boolean): Promise<TagDoc> {
    if (mustBeNew && this.rules.has(input.name)) throw ccError('CC_ERR_CONFLICT', `tag "${input.name}" exists`);
    this.check(input.name, input.rule);
    const doc: TagDoc = { _id: input.name, name: input.name, rule: input.rule, description: input.description ?? '' };
    await this.col.put(doc, { durable: true });
    this.rules.set(doc.name, doc);
    return doc;
  }

  /** Delete a tag; refused while another tag's rule refers to it. */
  async remove(name: string, policyRefs: string[]): Promise<void> {
    if (!this.rules.has(name)) throw ccError('CC_ERR_NOT_FOUND', `tag "${name}"`);
    const users = [...this.rules.values()].filter((t) => referencedTags(t.rule).includes(name)).map((t) => `tag ${t.name}`);
    users.push(...policyRefs.map((p) => `policy ${p}`));
    if (users.length) throw ccError('CC_ERR_IN_USE', `tag "${name}" is used by ${users.join(', ')}`);
    await this.col.remove({ _id: name }, { durable: true });
    this.rules.delete(name);
  }

  /** Names of every tag whose rule the facts (and the node record, for the node operators) satisfy. */
  evaluate(facts: Facts, node?: RuleNode): string[] {
    const ctx = { facts, node, tagRules: this.ruleMap(), patterns: this.patterns };
    return this.list()
      .filter((t) => explainRule(t.rule, ctx).matched)
      .map((t) => t.name);
  }

  /** Explain one rule against facts and the node record. */
  explain(rule: unknown, facts: Facts, node?: RuleNode): Explained {
    return explainRule(rule, { facts, node, tagRules: this.ruleMap(), patterns: this.patterns });
  }

  /** True when some tag reads the node record (metadata, state, MACs): its tags change when the record does. */
  readsNode(): boolean {
    const map = this.ruleMap();
    return this.list().some((t) => readsNode(t.rule, map));
  }

  /** API view with a node count. */
  view(t: TagDoc, nodeCount: number): Tag {
    return { name: t.name, rule: t.rule, description: t.description, node_count: nodeCount };
  }
}
