/** @jsxImportSource hono/jsx */
import type { DailyStatsDay } from '../installations/daily-stats.ts';
import { formatDay } from './format.tsx';

const SLOT = 10;
const BAR = 7;
const HEIGHT = 100;
const PAD = 2;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Installs (up) and removals (down) per UTC day, as server-rendered SVG bars on one scale.
 * The SVG holds only shapes and stretches to the width (preserveAspectRatio="none"); the labels
 * are HTML around it so they stay readable at any width. Screen readers get the <title>/<desc>
 * summary and the visually hidden table that follows, which has every number.
 */
export function DailyChart(props: { days: DailyStatsDay[]; id: string }) {
  const { days, id } = props;
  const totalInstalls = days.reduce((n, d) => n + d.installs, 0);
  const totalRemovals = days.reduce((n, d) => n + d.removals, 0);
  const maxInstalls = Math.max(0, ...days.map((d) => d.installs));
  const maxRemovals = Math.max(0, ...days.map((d) => d.removals));
  const first = days[0]?.date ?? '';
  const last = days[days.length - 1]?.date ?? '';
  const middle = days[Math.floor(days.length / 2)]?.date ?? '';
  const busiest = days.reduce<DailyStatsDay | null>((best, d) => (d.installs > (best?.installs ?? 0) ? d : best), null);

  const span = maxInstalls + maxRemovals;
  const plot = HEIGHT - 2 * PAD;
  const scale = span > 0 ? plot / span : 0;
  const zeroY = span > 0 ? PAD + maxInstalls * scale : HEIGHT / 2;
  const width = Math.max(1, days.length) * SLOT;

  const summary =
    `${plural(totalInstalls, 'install')} and ${plural(totalRemovals, 'removal')} from ${first} to ${last} (UTC days).` +
    (busiest ? ` Most installs on ${busiest.date}: ${busiest.installs}.` : '');

  return (
    <figure class="chart-figure" aria-labelledby={`${id}-caption`}>
      <div class="panel-head">
        <h2 id={`${id}-caption`}>Installs and removals, last {days.length} days</h2>
        <ul class="chart-legend">
          <li>
            <span class="dot dot-installs" aria-hidden="true"></span>Installs <strong>{totalInstalls}</strong>
          </li>
          <li>
            <span class="dot dot-removals" aria-hidden="true"></span>Removals <strong>{totalRemovals}</strong>
          </li>
        </ul>
      </div>
      {span === 0 ? (
        <p class="chart-empty">No installs or removals in these {days.length} days.</p>
      ) : (
        <div class="chart">
          <span class="chart-y chart-y-top" aria-hidden="true">
            {maxInstalls}
          </span>
          {maxRemovals > 0 ? (
            <span class="chart-y chart-y-bottom" aria-hidden="true">
              {maxRemovals}
            </span>
          ) : null}
          <svg
            viewBox={`0 0 ${width} ${HEIGHT}`}
            preserveAspectRatio="none"
            role="img"
            aria-labelledby={`${id}-title ${id}-desc`}
            data-testid="daily-chart"
            xmlns="http://www.w3.org/2000/svg"
          >
            <title id={`${id}-title`}>Installs and removals per day</title>
            <desc id={`${id}-desc`}>{summary}</desc>
            <line class="grid" x1="0" x2={width} y1={PAD} y2={PAD} vector-effect="non-scaling-stroke" />
            {maxRemovals > 0 ? (
              <line class="grid" x1="0" x2={width} y1={HEIGHT - PAD} y2={HEIGHT - PAD} vector-effect="non-scaling-stroke" />
            ) : null}
            {days.map((d, i) => {
              const x = i * SLOT + (SLOT - BAR) / 2;
              const up = d.installs * scale;
              const down = d.removals * scale;
              return (
                <g class="slot">
                  <title>{`${d.date}: ${plural(d.installs, 'install')}, ${plural(d.removals, 'removal')}`}</title>
                  {/* An invisible full-height target, so the tooltip shows anywhere in the day's column. */}
                  <rect x={i * SLOT} y="0" width={SLOT} height={HEIGHT} fill="transparent" />
                  {d.installs > 0 ? (
                    <rect class="bar bar-installs" data-day={d.date} data-kind="installs" x={x} y={zeroY - up} width={BAR} height={up} />
                  ) : null}
                  {d.removals > 0 ? (
                    <rect class="bar bar-removals" data-day={d.date} data-kind="removals" x={x} y={zeroY} width={BAR} height={down} />
                  ) : null}
                </g>
              );
            })}
            <line class="axis" x1="0" x2={width} y1={zeroY} y2={zeroY} vector-effect="non-scaling-stroke" />
          </svg>
        </div>
      )}
      <div class="chart-x" aria-hidden="true">
        <span>{formatDay(first)}</span>
        <span>{formatDay(middle)}</span>
        <span>{formatDay(last)}</span>
      </div>
      <div class="visually-hidden">
        <table>
          <caption>Installs and removals per UTC day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Installs</th>
              <th scope="col">Removals</th>
              <th scope="col">Active at end of day</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr>
                <th scope="row">{d.date}</th>
                <td>{d.installs}</td>
                <td>{d.removals}</td>
                <td>{d.active}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
