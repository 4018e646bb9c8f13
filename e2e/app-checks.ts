// Checks shared by the e2e tests; kept apart from harness.ts, which benches load outside vitest.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { shot } from './harness.js';

/** Waits two frames: the toolbar refits itself from a ResizeObserver, which runs in the rendering step. */
export async function nextFrames(page: Page): Promise<void> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

/**
 * Screenshots at both window sizes the app is checked at, ending at the larger one; the toolbar must
 * not overflow at either, and the element with test id `mustShow` must be on screen.
 */
export async function shotsAtBothSizes(page: Page, name: string, mustShow: string): Promise<void> {
  for (const [width, height] of [
    [1280, 800],
    [1600, 1000],
  ] as const) {
    await page.setViewportSize({ width, height });
    await nextFrames(page);
    const tb = await page.getByTestId('toolbar').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(tb.scroll, `toolbar overflows at ${width}x${height}`).toBeLessThanOrEqual(tb.client + 1);
    const box = await page.getByTestId(mustShow).boundingBox();
    expect(box && box.x + box.width <= width, `${mustShow} off screen at ${width}x${height}`).toBe(true);
    await shot(page, `${name}-${width}x${height}`);
  }
}
