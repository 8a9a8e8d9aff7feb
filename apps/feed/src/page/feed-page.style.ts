/** The page's stylesheet: light and dark, no web fonts (the page must work offline). */
export const FEED_PAGE_STYLE = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --card: #ffffff; --text: #1c2330; --muted: #677084; --line: #e2e5eb;
  --accent: #3559e0; --accent-soft: #e8edff; --ok: #17804a; --ok-soft: #e1f5ea; --warn: #b26a00; --bad: #c0392b;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151b; --card: #1b2029; --text: #e6e9ef; --muted: #97a0b3; --line: #2a303c;
    --accent: #8aa4ff; --accent-soft: #232c48; --ok: #5fd394; --ok-soft: #173326; --warn: #f0b35a; --bad: #ff8a7a;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
header { position: sticky; top: 0; z-index: 1; background: var(--card); border-bottom: 1px solid var(--line); }
.bar { max-width: 760px; margin: 0 auto; padding: 14px 16px; display: flex; align-items: center; gap: 12px; }
h1 { font-size: 18px; margin: 0; flex: 1; }
h1 span { color: var(--muted); font-weight: 400; }
.status { font-size: 13px; padding: 3px 10px; border-radius: 999px; background: var(--line); color: var(--muted); }
.status::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: currentColor; }
.status[data-state="live"] { background: var(--ok-soft); color: var(--ok); }
.status[data-state="reconnecting"] { color: var(--warn); }
form { max-width: 760px; margin: 0 auto; padding: 0 16px 14px; display: flex; flex-wrap: wrap; gap: 10px; }
label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 3px; }
label.grow { flex: 1; min-width: 180px; }
input, select { font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 7px 10px; }
input:focus, select:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
main { max-width: 760px; margin: 0 auto; padding: 16px; }
.error { background: var(--card); border-left: 4px solid var(--bad); color: var(--bad); padding: 10px 14px; border-radius: 8px; margin-bottom: 12px; }
ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 10px; }
.item { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px; display: flex; gap: 16px; align-items: center; }
.item.fresh { animation: fresh 1.6s ease-out; }
@keyframes fresh { from { box-shadow: 0 0 0 3px var(--accent); } to { box-shadow: 0 0 0 3px transparent; } }
.main { flex: 1; min-width: 0; }
.title { font-size: 16px; margin: 0 0 6px; overflow-wrap: anywhere; }
.meta { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; font-size: 13px; color: var(--muted); }
.chip { padding: 1px 8px; border-radius: 999px; background: var(--accent-soft); color: var(--accent); }
.side { text-align: center; min-width: 74px; display: flex; flex-direction: column; align-items: center; gap: 4px; }
.count { font-size: 20px; font-weight: 600; line-height: 1; }
.count-label { font-size: 12px; color: var(--muted); }
.item[data-answered="true"] .count { color: var(--ok); }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 999px; background: var(--ok-soft); color: var(--ok); white-space: nowrap; }
.empty { text-align: center; color: var(--muted); padding: 40px 0; }
.more { display: block; margin: 16px auto; font: inherit; padding: 8px 18px; border-radius: 8px; border: 1px solid var(--line); background: var(--card); color: var(--accent); cursor: pointer; }
.more:disabled { color: var(--muted); cursor: default; }
[hidden] { display: none !important; }
`;
