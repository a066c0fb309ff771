import { test } from "node:test";
import assert from "node:assert/strict";
import { niceScale } from "../../viewer/aitrace_viewer/static/js/charts.js";
import { resumeValue } from "../../viewer/aitrace_viewer/static/js/conversation.js";

test("an axis ends on a round number at or above the largest value, in four steps", () => {
  assert.deepEqual(niceScale(2), { max: 2, step: 0.5 });
  assert.deepEqual(niceScale(895), { max: 1000, step: 250 });
  assert.deepEqual(niceScale(0.04), { max: 0.04, step: 0.01 });
  assert.deepEqual(niceScale(0), { max: 1, step: 0.25 });  // an empty chart still has an axis
  for (const v of [3, 7, 13, 99, 101, 1234, 0.7]) {
    const { max, step } = niceScale(v);
    assert.ok(max >= v && max < v * 2.6, `${v} → ${max}`);
    assert.equal(max, step * 4);
  }
});

test("a run resumed with Command(resume=…) says what it was resumed with", () => {
  const root = (input) => ({ attrs: Object.assign(Object.create(null), { input }) });
  assert.equal(resumeValue(root({ command: { resume: "yes" } })), "yes");
  assert.deepEqual(resumeValue(root({ command: { resume: { approved: true } } })), { approved: true });
  assert.equal(resumeValue(root({ command: { goto: "next" } })), undefined);  // a Command without resume
  assert.equal(resumeValue(root({ question: "hi" })), undefined);
  assert.equal(resumeValue(root("command")), undefined);
  assert.equal(resumeValue(undefined), undefined);
});
