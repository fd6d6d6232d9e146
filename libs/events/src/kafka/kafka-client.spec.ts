import { kafkaSecurityFromEnv } from './kafka-client';

describe('kafkaSecurityFromEnv', () => {
  it('is plaintext without settings', () => {
    expect(kafkaSecurityFromEnv({})).toEqual({ ssl: false });
  });

  it('reads TLS and SASL for a managed cluster', () => {
    expect(
      kafkaSecurityFromEnv({
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'svc',
        KAFKA_SASL_PASSWORD: 'secret',
      }),
    ).toEqual({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'secret' },
    });
  });

  it('refuses an unknown mechanism or missing credentials', () => {
    expect(() => kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(/one of/);
    expect(() => kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/required/);
  });
});
