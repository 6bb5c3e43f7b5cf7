import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeDays, parseWindow } from '../../src/domain/window.js';

const days = (text: string) => parseWindow({ days: text, start: '22:00', end: '04:00', timeZone: 'UTC' }).days;

test("GIVEN a window's days WHEN described THEN Monday first, three or more in a row as a range", () => {
  assert.equal(describeDays(days('sat,sun')), 'sat,sun');
  assert.equal(describeDays(days('sun sat')), 'sat,sun');
  assert.equal(describeDays(days('mon,tue,wed,thu,fri')), 'mon-fri');
  assert.equal(describeDays(days('mon,tue')), 'mon,tue');
  assert.equal(describeDays(days('friday,saturday,sunday,monday')), 'mon,fri-sun');
  assert.equal(describeDays(days('mon,wed,fri')), 'mon,wed,fri');
  assert.equal(describeDays(days('mon,tue,wed,fri,sat,sun,thu')), 'every day');
  assert.equal(describeDays(days('wed')), 'wed');
});
