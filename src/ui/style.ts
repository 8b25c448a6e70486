/** The one stylesheet, served at /ui/ui.css (the page allows styles from this origin only, none inline). */
export const STYLESHEET = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5d6878; --bg: #fbfbfd; --card: #fff; --line: #d9dee7; --accent: #2a5bd7; --bad: #b3261e; --ok: #1e7d3a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa5b5; --bg: #14171c; --card: #1c2027; --line: #323846; --accent: #8ab0ff; --bad: #ff8a80; --ok: #7bd88f; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); flex-wrap: wrap; }
header .brand { font-weight: 600; }
header nav { display: flex; gap: .8rem; flex: 1; }
header .who { color: var(--muted); font-size: .9em; }
main { max-width: 70rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
h1 { font-size: 1.35rem; margin: .4rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .5rem .8rem; align-items: end; background: var(--card); border: 1px solid var(--line); padding: .8rem; border-radius: 6px; }
form.filters .wide { grid-column: 1 / -1; }
label { display: flex; flex-direction: column; gap: .2rem; font-size: .85em; color: var(--muted); }
label.check { flex-direction: row; align-items: center; gap: .4rem; }
input, select, textarea, button { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: .35rem .5rem; }
textarea { width: 100%; min-height: 8rem; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button.link { background: none; color: var(--accent); border: none; padding: 0; text-decoration: underline; }
.hit, .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem; margin: .6rem 0; }
.meta { color: var(--muted); font-size: .85em; }
.tag { display: inline-block; border: 1px solid var(--line); border-radius: 3px; padding: 0 .35rem; margin-right: .25rem; font-size: .8em; }
.badge { display: inline-block; border-radius: 3px; padding: 0 .4rem; font-size: .8em; border: 1px solid var(--line); }
.badge.strong, .badge.ok, .badge.done, .badge.achieved, .badge.success { color: var(--ok); border-color: var(--ok); }
.badge.error, .badge.failed, .badge.failure, .badge.invalid { color: var(--bad); border-color: var(--bad); }
.content { white-space: pre-wrap; overflow-wrap: anywhere; }
.cp { font: .75em monospace; border: 1px dashed var(--bad); color: var(--bad); padding: 0 .15rem; margin: 0 .1rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--bg); border: 1px solid var(--line); padding: .5rem; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.notice { padding: .6rem .8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); margin: .6rem 0; }
.notice.error { border-color: var(--bad); color: var(--bad); }
ul.tree { list-style: none; padding-left: 1.2rem; border-left: 1px solid var(--line); }
ul.tree.root { padding-left: 0; border-left: none; }
ol.steps li { margin: .2rem 0; }
.pager { display: flex; gap: 1rem; margin: .8rem 0; }
svg.chart { width: 100%; height: auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
svg.chart text { fill: var(--muted); font-size: 11px; }
svg.chart .semantic { fill: #4c78a8; } svg.chart .episodic { fill: #f58518; } svg.chart .procedural { fill: #54a24b; }
svg.chart .ok { fill: #54a24b; } svg.chart .error { fill: #e45756; } svg.chart .invalid { fill: #eeca3b; } svg.chart .bar { fill: #4c78a8; } svg.chart .p95 { fill: #9ecae9; }
svg.chart .track { fill: var(--line); }
.legend span { margin-right: 1rem; font-size: .85em; }
.legend i { display: inline-block; width: .8em; height: .8em; margin-right: .3em; vertical-align: middle; }
.legend i.semantic { background: #4c78a8; } .legend i.episodic { background: #f58518; } .legend i.procedural { background: #54a24b; }
.legend i.ok { background: #54a24b; } .legend i.error { background: #e45756; } .legend i.invalid { background: #eeca3b; } .legend i.p95 { background: #9ecae9; } .legend i.bar { background: #4c78a8; }
details.admin { margin-top: .8rem; }
ul.review { list-style: none; padding: 0; }
form.inline { display: inline-block; margin: .4rem .6rem 0 0; }
.login { max-width: 26rem; margin: 3rem auto; }
.login form { display: flex; flex-direction: column; gap: .6rem; }
`;
