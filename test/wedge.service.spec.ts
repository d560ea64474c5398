import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WedgeService } from '../src/wedge/wedge.service.js';

describe('WedgeService', () => {
  it('starts healthy', () => {
    const wedge = new WedgeService();
    assert.equal(wedge.isWedged(), false);
    assert.equal(wedge.wedgeReason(), '');
  });

  it('keeps the first reason until cleared (first write wins)', () => {
    const wedge = new WedgeService();
    wedge.markWedged('SDK stuck');
    wedge.markWedged('follow-on error');
    assert.equal(wedge.isWedged(), true);
    assert.equal(wedge.wedgeReason(), 'SDK stuck');
  });

  it('clears, and may be wedged again afterwards', () => {
    const wedge = new WedgeService();
    wedge.markWedged('first');
    wedge.clearWedge();
    assert.equal(wedge.isWedged(), false);
    wedge.markWedged('second');
    assert.equal(wedge.wedgeReason(), 'second');
  });

  it('treats clearing a healthy runtime as a no-op', () => {
    const wedge = new WedgeService();
    wedge.clearWedge();
    assert.equal(wedge.isWedged(), false);
  });
});
