import { useLayoutEffect, type RefObject } from 'react';

/**
 * What the toolbar gives up, in order, when its content is wider than the window. Fixed width
 * breakpoints could not know what the toolbar holds (an "untrusted" badge, a long document name, a
 * queue target with its worker count), so the toolbar measures itself and drops only as much as it
 * must. Each step is a class on the toolbar; the stylesheet says what it hides.
 */
export const TOOLBAR_FIT_STEPS = [
  'fit-brand', // the product name next to the logo
  'fit-compact', // Import / Export / JSON labels (icons stay)
  'fit-path', // the document path under its name
  'fit-runopt', // "keep going on failure" becomes "keep going"
  'fit-tight', // tighter gaps between groups
  'fit-runlabels', // Run node / Run from / Cancel labels (icons stay, "Run all" keeps its label)
  'fit-rtdot', // the run target's status dot
  'fit-title', // the document name may ellipsize to a narrower box
  'fit-runopt-bare', // the failure-policy checkbox keeps only its tooltip
] as const;

function overflows(el: HTMLElement): boolean {
  return el.scrollWidth > el.clientWidth + 1;
}

/** Applies the fewest fit steps that make the toolbar fit; returns how many it applied. */
export function fitToolbar(el: HTMLElement): number {
  el.classList.remove(...TOOLBAR_FIT_STEPS);
  let applied = 0;
  while (applied < TOOLBAR_FIT_STEPS.length && overflows(el)) {
    el.classList.add(TOOLBAR_FIT_STEPS[applied]!);
    applied++;
  }
  el.dataset.fit = String(applied);
  return applied;
}

/**
 * Refits when the toolbar's width changes or its content changes (badge, name, run target). Only the
 * toolbar's own classes change while fitting, and the observers do not watch those, so fitting never
 * re-triggers itself.
 */
export function useToolbarFit(ref: RefObject<HTMLElement | null>): void {
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    fitToolbar(el);
    const refit = () => fitToolbar(el);
    const resize = new ResizeObserver(refit);
    resize.observe(el);
    const content = new MutationObserver(refit);
    content.observe(el, { subtree: true, childList: true, characterData: true });
    return () => {
      resize.disconnect();
      content.disconnect();
    };
  }, [ref]);
}
