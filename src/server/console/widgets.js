import { html, useEffect, useRef, useState } from './vendor/preact.js';

/** A Chart.js bar chart of days: one dataset per series ({ label, values, color }). */
export function DayChart({ days, series }) {
  const canvas = useRef(null);
  useEffect(() => {
    const chart = new window.Chart(canvas.current, {
      type: 'bar',
      data: { labels: days.map((d) => d.slice(5)), datasets: series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color })) },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    return () => chart.destroy();
  }, [JSON.stringify(days), JSON.stringify(series)]);
  return html`<div class="chart"><canvas ref=${canvas}></canvas></div>`;
}

/** Loads once per change of `deps`; renders the error with its code. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data }),
      (error) => live && setState({ error }),
    );
    return () => (live = false);
  }, deps);
  return state;
}

export function Failure({ error }) {
  return html`<p class="result error" role="alert"><strong>${error.code ?? 'ERROR'}</strong>: ${error.message}</p>`;
}

/**
 * A button that runs an action once: disabled while it runs, so a double
 * click cannot apply it twice; the outcome shows beside it (`onResult`).
 */
export function ActionButton({ label, run, onResult, danger, disabled }) {
  const [busy, setBusy] = useState(false);
  const click = async () => {
    if (busy) return;
    setBusy(true);
    try {
      onResult({ ok: true, message: await run() });
    } catch (error) {
      onResult({ ok: false, code: error.code ?? 'ERROR', message: error.message });
    } finally {
      setBusy(false);
    }
  };
  return html`<button class=${danger ? 'danger' : ''} disabled=${busy || disabled} onClick=${click}>${busy ? `${label}…` : label}</button>`;
}

export function Outcome({ outcome }) {
  if (!outcome) return null;
  return outcome.ok
    ? html`<p class="result ok" role="status">${outcome.message}</p>`
    : html`<p class="result error" role="alert"><strong>${outcome.code}</strong>: ${outcome.message}</p>`;
}
