import { describe, expect, it } from 'vitest';
import { createAwsMode, loadAwsModeConfig } from '../../worker/aws/index.js';

describe('AWS mode configuration', () => {
  it('defaults to no metrics, the Roomline namespace and the roomline/trunks/ prefix', () => {
    // Prepare
    const env = {};

    // Act
    const config = loadAwsModeConfig(env);

    // Assess
    expect(config).toEqual({
      metrics: 'off',
      metricsNamespace: 'Roomline',
      metricsDeployment: 'default',
      trunkSecretPrefix: 'roomline/trunks/',
      ecsAgentUri: undefined,
    });
  });

  it('names the variable of a bad value', () => {
    // Prepare
    const env = { ROOMLINE_METRICS: 'statsd', ROOMLINE_METRICS_NAMESPACE: 'AWS/ECS' };

    // Act
    const load = () => loadAwsModeConfig(env);

    // Assess
    expect(load).toThrow(/ROOMLINE_METRICS: [\s\S]*ROOMLINE_METRICS_NAMESPACE: must not start with AWS\//);
  });

  it('writes EMF lines when metrics are emf and nothing when they are off', () => {
    // Prepare
    const lines: string[] = [];
    const on = createAwsMode(loadAwsModeConfig({ ROOMLINE_METRICS: 'emf', ROOMLINE_METRICS_DEPLOYMENT: 'stack-a' }), { region: 'eu-west-1', write: (l) => lines.push(l) });
    const off = createAwsMode(loadAwsModeConfig({}), { region: 'eu-west-1', write: (l) => lines.push(l) });

    // Act
    on.metrics.callStarted();
    off.metrics.callStarted();

    // Assess
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ Deployment: 'stack-a', CallsStarted: 1 });
    expect(on.protection.onEcs).toBe(false);
  });

  it('talks to the ECS agent named by ECS_AGENT_URI', () => {
    // Prepare
    const config = loadAwsModeConfig({ ECS_AGENT_URI: 'http://169.254.170.2/api/abc' });

    // Act
    const mode = createAwsMode(config, { region: 'eu-west-1' });

    // Assess
    expect(mode.protection.onEcs).toBe(true);
  });
});
