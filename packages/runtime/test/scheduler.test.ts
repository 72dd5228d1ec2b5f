import { describe, expect, it } from 'vitest';
import { EventBudgetExceeded, Scheduler } from '@pxsim/runtime';

describe('the discrete-event scheduler', () => {
  it('runs events by time, ties in the order set, and lets each instant finish its promise work first', async () => {
    const scheduler = new Scheduler();
    const log: string[] = [];
    scheduler.setTimer(5, () => log.push('a'));
    const cancelled = scheduler.setTimer(5, () => log.push('cancelled'));
    scheduler.setTimer(3, () => {
      log.push(`b@${scheduler.nowMs()}`);
      scheduler.setTimer(2, () => log.push('c')); // same instant as a, set later: runs after a, d and f
      scheduler.setTimer(0, () => log.push('b-again')); // this instant, this round
    });
    cancelled.cancel();
    scheduler.setTimer(5, () => {
      log.push('d');
      void Promise.resolve()
        .then(() => log.push('d-promise'))
        .then(() => scheduler.setTimer(0, () => log.push(`e@${scheduler.nowMs()}`)));
    });
    scheduler.setTimer(5, () => log.push('f'));
    scheduler.setTimer(11, () => log.push('too late'));
    await scheduler.runUntil(10);
    expect(log).toEqual(['b@3', 'b-again', 'a', 'd', 'f', 'c', 'd-promise', 'e@5']);
    expect(scheduler.nowMs()).toBe(10);
    expect(scheduler.eventsRun).toBe(7);
    expect(scheduler.instantsRun).toBe(3); // 3, 5, and 5 again for the timer set by promise work
    expect(scheduler.pending).toBe(1);
  });

  it('keeps the rest of an instant scheduled when an event throws, and enforces an event budget', async () => {
    const scheduler = new Scheduler();
    const log: string[] = [];
    scheduler.setTimer(1, () => log.push('first'));
    scheduler.setTimer(1, () => {
      throw new Error('boom');
    });
    scheduler.setTimer(1, () => log.push('after'));
    await expect(scheduler.runUntil(5)).rejects.toThrow('boom');
    expect(scheduler.pending).toBe(1);
    await scheduler.runUntil(5);
    expect(log).toEqual(['first', 'after']);

    for (let index = 0; index < 10; index++) scheduler.setTimer(index, () => undefined);
    await expect(scheduler.runFor(100, 3)).rejects.toThrow(/event budget exhausted: runEventsMax = 3 events/);
  });

  it('has a default budget: a zero-delay loop fails the run naming the budget instead of hanging it', async () => {
    const scheduler = new Scheduler();
    const loop = (): void => {
      scheduler.setTimer(0, loop);
    };
    scheduler.setTimer(7, loop);
    const failure = scheduler.runFor(1000).then(
      () => undefined,
      (error: unknown) => error,
    );
    const error = await failure;
    expect(error).toBeInstanceOf(EventBudgetExceeded);
    expect(String(error)).toMatch(/instantEventsMax = 100000 events reached at 7 ms/);
    expect(scheduler.nowMs()).toBe(7);

    const small = new Scheduler({ eventsMax: 5 });
    for (let index = 0; index < 10; index++) small.setTimer(index, () => undefined);
    expect(() => small.runUntilSync(100)).toThrow(/eventsMax = 5 events/);
    expect(small.eventsRun).toBe(5);
  });

  it('runs synchronously in the same order as the asynchronous loop', () => {
    const scheduler = new Scheduler();
    const log: string[] = [];
    scheduler.setTimer(5, () => log.push('a'));
    scheduler.setTimer(3, () => {
      log.push(`b@${scheduler.nowMs()}`);
      scheduler.setTimer(2, () => log.push('c'));
      scheduler.setTimer(0, () => log.push('b-again'));
    });
    scheduler.setTimer(5, () => log.push('d'));
    scheduler.runUntilSync(10);
    expect(log).toEqual(['b@3', 'b-again', 'a', 'd', 'c']);
    expect(scheduler.nowMs()).toBe(10);
  });
});
