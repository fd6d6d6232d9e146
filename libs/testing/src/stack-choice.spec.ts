import { FORCE_STACK_VAR, chooseTestStack } from './stack-choice';

const ADDRESSES = {
  KAFKA_BROKERS: '127.0.0.1:19092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7',
  DATABASE_ADMIN_URL: 'postgres://postgres:postgres@127.0.0.1:15433/postgres',
};

/** A probe that records whether it was asked. */
function docker(answers: boolean): { probe: () => Promise<boolean>; asked: () => boolean } {
  let asked = false;
  return {
    probe: () => {
      asked = true;
      return Promise.resolve(answers);
    },
    asked: () => asked,
  };
}

describe('chooseTestStack', () => {
  it('uses the addresses given, without asking Docker', async () => {
    const d = docker(true);
    await expect(chooseTestStack({ ...ADDRESSES }, d.probe)).resolves.toMatchObject({
      kind: 'environment',
    });
    expect(d.asked()).toBe(false);
  });

  it('starts containers where a Docker engine answers and no addresses are given', async () => {
    await expect(chooseTestStack({}, docker(true).probe)).resolves.toMatchObject({
      kind: 'containers',
    });
  });

  it('starts the process stack where no Docker engine answers', async () => {
    await expect(chooseTestStack({}, docker(false).probe)).resolves.toEqual({
      kind: 'processes',
      reason: 'no Docker engine answers',
    });
  });

  it('treats a partial set of addresses as none, and says so', async () => {
    const choice = await chooseTestStack(
      { KAFKA_BROKERS: ADDRESSES.KAFKA_BROKERS, SCHEMA_REGISTRY_URL: ' ' },
      docker(false).probe,
    );
    expect(choice.kind).toBe('processes');
    expect(choice.reason).toContain('only KAFKA_BROKERS set');
  });

  it(`obeys ${FORCE_STACK_VAR}, without asking Docker`, async () => {
    const d = docker(true);
    await expect(
      chooseTestStack({ [FORCE_STACK_VAR]: 'processes' }, d.probe),
    ).resolves.toMatchObject({ kind: 'processes' });
    expect(d.asked()).toBe(false);
    await expect(
      chooseTestStack({ [FORCE_STACK_VAR]: 'containers' }, docker(false).probe),
    ).resolves.toMatchObject({ kind: 'containers' });
    await expect(chooseTestStack({ [FORCE_STACK_VAR]: 'vm' }, d.probe)).rejects.toThrow(
      FORCE_STACK_VAR,
    );
  });
});
