import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const cache = new Map<string, Promise<string>>();

/**
 * The MongoDB connection URI from Secrets Manager, fetched once per container
 * and kept only in memory. The secret's SecretString is either the URI itself
 * or JSON with a `uri` field. The value is never logged or put in errors.
 */
export function mongoUriFromSecret(client: SecretsManagerClient, secretId: string): Promise<string> {
  let pending = cache.get(secretId);
  if (pending === undefined) {
    pending = fetchUri(client, secretId);
    cache.set(secretId, pending);
    // A failed fetch must not be cached: the next invocation retries.
    pending.catch(() => cache.delete(secretId));
  }
  return pending;
}

async function fetchUri(client: SecretsManagerClient, secretId: string): Promise<string> {
  const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const text = result.SecretString?.trim();
  if (text === undefined || text === '') {
    throw new Error(`secret ${secretId} has no SecretString; expected a mongodb:// or mongodb+srv:// URI`);
  }
  const uri = text.startsWith('{') ? uriFromJson(text, secretId) : text;
  if (!/^mongodb(\+srv)?:\/\//.test(uri)) {
    throw new Error(`secret ${secretId} does not hold a mongodb:// or mongodb+srv:// URI`);
  }
  return uri;
}

function uriFromJson(text: string, secretId: string): string {
  try {
    const parsed = JSON.parse(text) as { uri?: unknown };
    if (typeof parsed.uri === 'string') return parsed.uri;
  } catch {
    // fall through to the error below, which does not echo the secret
  }
  throw new Error(`secret ${secretId} is JSON but has no string field 'uri'`);
}

/** For tests: forget cached secret values. */
export function clearSecretCache(): void {
  cache.clear();
}
