import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import { generateCloseTasks } from '../../../../lib/local/sample-data/index.ts';
import { assertGroupedTimes, assertStrictlyIncreasing, canonical } from './sample-docs.ts';

const STATUSES = new Set(['Not Started', 'In Progress', 'Complete', 'Blocked']);
const TEAM = new Set(['Alice', 'Bob', 'Carol', 'David', 'Erin', 'Frank']);

describe('close tasks', () => {
  it("starts with the brief's T1 and T2 exactly", () => {
    const [t1, t2] = [...generateCloseTasks({ closeTasks: 2 })].map(({ updatedAt: _, ...rest }) =>
      canonical(rest),
    );
    assert.equal(
      t1,
      canonical({
        _id: new ObjectId('68ca9b35193e5d257e046f25'),
        task_id: 'T1',
        name: 'Reconcile Cash',
        assigned_to: 'Alice',
        status: 'Complete',
        due_date: new Date('2025-06-05T00:00:00Z'),
      }),
    );
    assert.equal(
      t2,
      canonical({
        _id: new ObjectId('68ca9b35193e5d257e046f26'),
        task_id: 'T2',
        name: 'Review AP',
        assigned_to: 'Bob',
        status: 'In Progress',
        due_date: new Date('2025-06-06T00:00:00Z'),
      }),
    );
  });

  it('gives a twelve-task checklist for the close of each month of the entries by default (288 for 2024-2025)', () => {
    const tasks = [...generateCloseTasks()];
    assert.equal(tasks.length, 288);
    assert.deepEqual(
      tasks.map((task) => task.task_id),
      Array.from({ length: 288 }, (_, i) => `T${i + 1}`),
    );
    assert.deepEqual(
      tasks.slice(24, 36).map((task) => task.name),
      tasks.slice(12, 24).map((task) => task.name),
    );
    // The January 2024 close is due in February 2024; the December 2025 close in January 2026.
    assert.ok(tasks.slice(2, 12).every((task) => task.due_date.toISOString().startsWith('2024-02-')));
    assert.ok(tasks.slice(276).every((task) => task.due_date.toISOString().startsWith('2026-01-')));
    // Old closes are done; the last two months' are under way.
    const share = (list: typeof tasks) => list.filter((t) => t.status === 'Complete').length / list.length;
    assert.ok(share(tasks.slice(2, 264)) > 0.9, `settled closes ${share(tasks.slice(2, 264))} complete`);
    assert.ok(share(tasks.slice(264)) < 0.8, `open closes ${share(tasks.slice(264))} complete`);
  });

  it('uses the contract statuses, team members, midnight due dates and increasing ids', () => {
    const tasks = [...generateCloseTasks({ closeTasks: 5000 })];
    for (const task of tasks) {
      assert.ok(STATUSES.has(task.status), task.status);
      assert.ok(TEAM.has(task.assigned_to), task.assigned_to);
      assert.equal(task.due_date.getTime() % 86_400_000, 0);
    }
    assert.deepEqual(new Set(tasks.map((task) => task.status)), STATUSES);
    assertStrictlyIncreasing(tasks.map((task) => task._id.toHexString()));
    assertGroupedTimes(tasks.map((task) => task.updatedAt));
  });
});
