import {
  callExtrasOf,
  type GuardrailTraceLike,
  guardrailRecordOf,
  guardrailWorstCaseNanoUsd,
  MAX_CHARS_PER_OUTPUT_TOKEN,
  readGuardrailTrace,
} from '../../../../lambda/inference/core/guardrail';
import { costNanoUsd, GUARDRAIL_PRICES, guardrailCostNanoUsd } from '../../../../lambda/shared/catalog';

const usage = (content: number, topics = 0, pii = 0) => ({
  invocationMetrics: {
    usage: { contentPolicyUnits: content, topicPolicyUnits: topics, sensitiveInformationPolicyUnits: pii },
  },
});

describe('readGuardrailTrace', () => {
  it('reads a blocked prompt: on input, what fired, the units of every assessment', () => {
    const trace: GuardrailTraceLike = {
      inputAssessment: {
        g1: {
          contentPolicy: {
            filters: [
              { type: 'PROMPT_ATTACK', action: 'BLOCKED' },
              { type: 'HATE', action: 'NONE' },
            ],
          },
          topicPolicy: { topics: [{ name: 'Investment advice', action: 'BLOCKED' }] },
          ...usage(2, 2, 2),
        },
      },
    };
    expect(readGuardrailTrace('guardrail_intervened', trace)).toEqual({
      intervened: true,
      on: 'input',
      findings: ['content:PROMPT_ATTACK:BLOCKED', 'topics:Investment advice:BLOCKED'],
      units: { content: 2, topics: 2, sensitiveInformation: 2 },
    });
  });

  it('reads a masked answer: on output, the PII type without the matched text', () => {
    const trace = {
      inputAssessment: { g1: usage(1, 0, 1) },
      outputAssessments: {
        g1: [
          {
            sensitiveInformationPolicy: {
              piiEntities: [{ type: 'EMAIL', action: 'ANONYMIZED', match: 'jane@corp.example' }],
              regexes: [{ name: 'booking-id', action: 'ANONYMIZED', match: 'BK-123' }],
            },
            ...usage(1, 0, 1),
          },
        ],
      },
    } as unknown as GuardrailTraceLike;
    const out = readGuardrailTrace('guardrail_intervened', trace);
    expect(out).toEqual({
      intervened: true,
      on: 'output',
      findings: ['sensitiveInformation:EMAIL:ANONYMIZED', 'sensitiveInformation:booking-id:ANONYMIZED'],
      units: { content: 2, sensitiveInformation: 2 },
    });
    expect(JSON.stringify(out)).not.toMatch(/jane|BK-123/);
  });

  it('names a custom word by its policy only (the word is the matched text)', () => {
    const trace = {
      outputAssessments: { g: [{ wordPolicy: { customWords: [{ match: 'secret-codename', action: 'BLOCKED' }] } }] },
    } as unknown as GuardrailTraceLike;
    expect(readGuardrailTrace('guardrail_intervened', trace).findings).toEqual(['words:CUSTOM_WORD:BLOCKED']);
  });

  it('reports units and no intervention when the guardrail let the call through', () => {
    expect(readGuardrailTrace('end_turn', { inputAssessment: { g: usage(1, 0, 1) } })).toEqual({
      intervened: false,
      findings: [],
      units: { content: 1, sensitiveInformation: 1 },
    });
    expect(readGuardrailTrace('end_turn', undefined)).toEqual({ intervened: false, findings: [], units: {} });
  });

  it('bounds what it keeps and believes from a hostile or broken trace', () => {
    const filters = Array.from({ length: 100_000 }, (_, i) => ({ type: `T${i}${'x'.repeat(500)}`, action: 'BLOCKED' }));
    const trace = {
      inputAssessment: Object.fromEntries(
        Array.from({ length: 1000 }, (_, i) => [`g${i}`, { contentPolicy: { filters }, ...usage(Number.MAX_VALUE) }]),
      ),
      outputAssessments: { g: 'not a list', h: [null, { invocationMetrics: { usage: { contentPolicyUnits: -5 } } }] },
    } as unknown as GuardrailTraceLike;
    const started = performance.now();
    const out = readGuardrailTrace('guardrail_intervened', trace);
    expect(performance.now() - started).toBeLessThan(500);
    expect(out.findings.length).toBeLessThanOrEqual(20);
    for (const f of out.findings) expect(f.length).toBeLessThan(130);
    // At most 16 assessments are read, each believed up to a million units.
    expect(out.units.content).toBe(16 * 1_000_000);
  });
});

describe('guardrail cost', () => {
  it('prices text units per policy in exact nano-USD (content $0.15, topics $0.15, PII $0.10 per 1,000 units)', () => {
    expect(GUARDRAIL_PRICES.usdPer1000Units).toEqual({ content: 0.15, topics: 0.15, sensitiveInformation: 0.1 });
    expect(guardrailCostNanoUsd({ content: 1000 })).toBe(150_000_000);
    expect(guardrailCostNanoUsd({ content: 2, topics: 2, sensitiveInformation: 2 })).toBe(800_000);
    expect(
      costNanoUsd('us.amazon.nova-micro-v1:0', { inputTokens: 0, outputTokens: 0, guardrailUnits: { content: 1 } }),
    ).toBe(150_000);
  });

  it('bounds a call: every billed policy over the prompt (each block rounded up) and an answer of maxTokens', () => {
    const policies = ['content', 'sensitiveInformation'] as const;
    // 2,500 characters in 2 blocks: at most 3 + 2 units; 500 tokens × 8 characters: 4 units.
    const worst = guardrailWorstCaseNanoUsd(policies, { inputChars: 2500, inputBlocks: 2, maxTokens: 500 });
    expect(worst).toBe(guardrailCostNanoUsd({ content: 9, sensitiveInformation: 9 }));
    expect(MAX_CHARS_PER_OUTPUT_TOKEN).toBe(8);
    expect(guardrailWorstCaseNanoUsd([], { inputChars: 2500, inputBlocks: 2, maxTokens: 500 })).toBe(0);
  });

  it('counts the preambles as input (bytes) and the guardrail policies of the tenant', () => {
    const extras = callExtrasOf({
      preamble: { platform: 'ab', tenant: 'é' },
      guardrail: { source: 'tenant', policies: ['content', 'topics'] },
    });
    expect(extras).toEqual({ preambleBytes: 4, preambleBlocks: 2, guardrailPolicies: ['content', 'topics'] });
  });
});

describe('guardrailRecordOf', () => {
  it('records an intervention with the call it happened on, nothing otherwise', () => {
    const guardrail = readGuardrailTrace('guardrail_intervened', {
      inputAssessment: { g: { contentPolicy: { filters: [{ type: 'PROMPT_ATTACK', action: 'BLOCKED' }] } } },
    });
    expect(
      guardrailRecordOf({ tier: 'fast', modelId: 'm', reply: { stopReason: 'guardrail_intervened', guardrail } }),
    ).toEqual({
      intervened: true,
      on: 'input',
      findings: ['content:PROMPT_ATTACK:BLOCKED'],
      tier: 'fast',
      modelId: 'm',
    });
    expect(guardrailRecordOf({ tier: 'fast', modelId: 'm', reply: { stopReason: 'end_turn' } })).toBeUndefined();
  });
});
