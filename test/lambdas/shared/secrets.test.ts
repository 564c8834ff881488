import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clearSecretCache, mongoUriFromSecret } from '../../../lambdas/shared/secrets.ts';
import { motoClientConfig, motoEndpoint, uniqueName } from '../../support/services.ts';

describe('MongoDB URI from Secrets Manager', () => {
  let client: SecretsManagerClient;
  const create = async (value: string) => {
    const name = `ledgerlake/${uniqueName('uri')}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    return name;
  };

  before(async () => {
    client = new SecretsManagerClient(motoClientConfig(await motoEndpoint()));
  });
  after(() => client.destroy());

  it('reads a plain URI or JSON with a uri field', async () => {
    const plain = await create('mongodb+srv://cluster0.example.net/fq_app?authSource=admin');
    const json = await create('{"uri":"mongodb://127.0.0.1:27017/?directConnection=true"}');
    assert.equal(
      await mongoUriFromSecret(client, plain),
      'mongodb+srv://cluster0.example.net/fq_app?authSource=admin',
    );
    assert.equal(await mongoUriFromSecret(client, json), 'mongodb://127.0.0.1:27017/?directConnection=true');
  });

  it('fetches once per container', async () => {
    const name = await create('mongodb://first-host:27017');
    let calls = 0;
    const counting = new SecretsManagerClient(motoClientConfig(await motoEndpoint()));
    counting.middlewareStack.add((next) => (args) => {
      calls++;
      return next(args);
    });
    await mongoUriFromSecret(counting, name);
    await mongoUriFromSecret(counting, name);
    assert.equal(calls, 1);
    clearSecretCache();
    await mongoUriFromSecret(counting, name);
    assert.equal(calls, 2);
    counting.destroy();
  });

  it('fails without echoing a secret that is not a MongoDB URI', async () => {
    const name = await create('{"password":"hunter2-do-not-print"}');
    const error = await mongoUriFromSecret(client, name).then(
      () => assert.fail('accepted'),
      (e: Error) => e,
    );
    assert.equal(error.message, `secret ${name} is JSON but has no string field 'uri'`);
    const other = await create('postgres://db.example.net/hunter2-do-not-print');
    await assert.rejects(mongoUriFromSecret(client, other), (e: Error) => {
      assert.equal(e.message, `secret ${other} does not hold a mongodb:// or mongodb+srv:// URI`);
      return true;
    });
  });

  it('fails naming the secret when it does not exist', async () => {
    await assert.rejects(
      mongoUriFromSecret(client, 'ledgerlake/does-not-exist'),
      /ResourceNotFound|can't find/i,
    );
  });
});
