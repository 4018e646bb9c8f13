// Checks shared by the e2e tests; kept apart from harness.ts, which benches load outside vitest.
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launch, shot, type Served } from './harness.js';

/** Opens the served app in a fresh Chromium and waits until it is ready; a page error while loading fails the test. */
export async function openApp(s: Served): Promise<{ browser: Browser; page: Page }> {
  const { browser, page } = await launch();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(s.url);
  await page.waitForSelector('body[data-ready="true"]');
  expect(errors).toEqual([]);
  return { browser, page };
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
    const tb = await page.getByTestId('toolbar').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(tb.scroll, `toolbar overflows at ${width}x${height}`).toBeLessThanOrEqual(tb.client + 1);
    const box = await page.getByTestId(mustShow).boundingBox();
    expect(box && box.x + box.width <= width, `${mustShow} off screen at ${width}x${height}`).toBe(true);
    await shot(page, `${name}-${width}x${height}`);
  }
}
