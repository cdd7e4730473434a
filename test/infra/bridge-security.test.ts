import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RoomlineBridgePropsError } from '../../infra/roomline-bridge.js';
import { WORKER_BROWSER_USER, WORKER_SETPRIV_PATH } from '../../infra/constructs/worker-service.js';
import { synthBridge, workerEnvironment } from './synth.js';

/** Containers of a task definition by name, with their environment and secrets. */
function containers(template: ReturnType<typeof synthBridge>['template']) {
  const found: Record<string, { Environment?: { Name: string; Value: unknown }[]; Secrets?: { Name: string; ValueFrom: unknown }[] }> = {};
  for (const resource of Object.values(template.findResources('AWS::ECS::TaskDefinition'))) {
    for (const c of (resource as { Properties: { ContainerDefinitions: ({ Name: string } & (typeof found)[string])[] } }).Properties.ContainerDefinitions) {
      found[c.Name] = c;
    }
  }
  return found;
}

describe('RoomlineBridge security settings', () => {
  it('gives the workers the allow-lists, public hosts only by default', () => {
    // Act
    const env = workerEnvironment(synthBridge().template);

    // Assess
    expect(env).toMatchObject({ ROOMLINE_ROOM_HOSTS: '*', ROOMLINE_SIP_HOSTS: '*' });
  });

  it('sets the allow-lists from props and refuses a malformed pattern at synth', () => {
    // Act
    const env = workerEnvironment(synthBridge({ roomHosts: ['*.rooms.example.com', '10.20.0.0/16'], sipHosts: ['sip.trunk.example.com'] }).template);
    const bad = () => synthBridge({ roomHosts: ['https://janus.example.com'] });

    // Assess
    expect(env).toMatchObject({ ROOMLINE_ROOM_HOSTS: '*.rooms.example.com,10.20.0.0/16', ROOMLINE_SIP_HOSTS: 'sip.trunk.example.com' });
    expect(bad).toThrow(RoomlineBridgePropsError);
    expect(bad).toThrow(/roomHosts: "https:\/\/janus\.example\.com" is neither/);
  });

  it('runs Chromium as its own user through the image\'s setpriv, with the sandbox off only as the explicit Fargate opt-out', () => {
    // Act
    const env = workerEnvironment(synthBridge().template);
    const onWhereAllowed = workerEnvironment(synthBridge({ chromiumSandbox: true }).template);

    // Assess
    expect(env).toMatchObject({ ROOMLINE_CHROMIUM_SANDBOX: 'off', ROOMLINE_CHROMIUM_USER: WORKER_BROWSER_USER, ROOMLINE_CHROMIUM_SETPRIV: WORKER_SETPRIV_PATH });
    expect(onWhereAllowed['ROOMLINE_CHROMIUM_SANDBOX']).toBe('on');
  });

  it('generates a Janus API secret and injects it from Secrets Manager into the workers and the Janus nodes, never as plain environment', () => {
    // Act
    const { template, bridge } = synthBridge();
    const byName = containers(template);

    // Assess
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ ExcludePunctuation: true, PasswordLength: 40 }) });
    expect(byName['worker']?.Secrets?.map((s) => s.Name)).toContain('ROOMLINE_JANUS_API_SECRET');
    expect(byName['janus']?.Secrets?.map((s) => s.Name)).toEqual(['JANUS_API_SECRET']);
    expect(JSON.stringify(byName['worker']?.Environment)).not.toContain('JANUS_API_SECRET');
    expect(bridge.janusTransport).toBe('ws');
  });

  it('uses the API secret of existing Janus servers when given, says when there is none, and says whether the link is TLS', () => {
    // Prepare
    const app = new App();
    const secretStack = new Stack(app, 'Secrets');
    const theirs = secretsmanager.Secret.fromSecretNameV2(secretStack, 'Theirs', 'janus/api-secret');

    // Act
    const withSecret = synthBridge({ janusUrls: ['wss://janus-1.example.com/ws', 'wss://janus-2.example.com/ws'], janusApiSecret: theirs });
    const without = synthBridge({ janusUrls: ['ws://janus.example.com:8188'] });

    // Assess
    expect(containers(withSecret.template)['worker']?.Secrets?.map((s) => s.Name)).toEqual(['ROOMLINE_JANUS_API_SECRET']);
    expect(withSecret.bridge.janusTransport).toBe('wss');
    expect(without.bridge.janusTransport).toBe('ws');
    Annotations.fromStack(without.stack).hasWarning('*', Match.stringLikeRegexp('janusUrls without janusApiSecret'));
  });
});
