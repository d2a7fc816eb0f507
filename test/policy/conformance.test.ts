import { policies, POLICY_NAMES } from '../../src/3-policy/index.ts';
import { runPolicyConformance } from './conformance.ts';

for (const name of POLICY_NAMES) runPolicyConformance(name, () => policies[name]({}));

// The geo policies hand over to a fallback policy: the contract must hold through it too.
runPolicyConformance('geo-proximity with an affinity fallback', () =>
  policies['geo-proximity']({ fallback: policies.affinity({}) }),
);
runPolicyConformance('geo-map with a weighted fallback', () =>
  policies['geo-map']({ fallback: policies.weighted({}) }),
);
runPolicyConformance('least-load with answerLoad 5 and no tolerance', () =>
  policies['least-load']({ answerLoad: 5, tolerance: 0 }),
);
