export * from './retry.policy.js';
export * from './error.classifier.js';
export * from './delay-tier.js';
