import { whileTopicsSettle } from './topic-creation';

// A kafkajs error as subscribe throws it: the broker's answer as `type`, or wrapped as `cause` once kafkajs gave up.
const answer = (type: string) => Object.assign(new Error(type), { type });
const exhausted = (type: string) => Object.assign(new Error('retries exceeded'), { cause: { type } });

describe('whileTopicsSettle', () => {
  it('tries again while a broker does not know a topic yet, then answers', async () => {
    const failures = [answer('UNKNOWN_TOPIC_OR_PARTITION'), exhausted('LEADER_NOT_AVAILABLE')];
    let calls = 0;
    const result = await whileTopicsSettle(async () => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return 'subscribed';
    }, 10_000, 1);
    expect(result).toBe('subscribed');
    expect(calls).toBe(3);
  });

  it('lets any other error through at once', async () => {
    let calls = 0;
    const denied = answer('TOPIC_AUTHORIZATION_FAILED');
    await expect(whileTopicsSettle(async () => {
      calls++;
      throw denied;
    }, 10_000, 1)).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('gives up after its limit with the last answer', async () => {
    let calls = 0;
    await expect(whileTopicsSettle(async () => {
      calls++;
      throw answer('UNKNOWN_TOPIC_OR_PARTITION');
    }, 30, 5)).rejects.toThrow('UNKNOWN_TOPIC_OR_PARTITION');
    expect(calls).toBeGreaterThan(1);
  });
});
