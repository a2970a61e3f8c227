"""The page's inline stylesheet (system fonts only: nothing is downloaded)."""

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#24292f;font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Helvetica,Arial,sans-serif}
main{max-width:1220px;margin:0 auto;padding:20px}
h1{margin:0 0 6px;font-size:26px}
h2{font-size:19px;margin:0 0 6px}
h3{font-size:15px;margin:18px 0 6px}
.muted{color:#57606a;font-weight:normal}
header.overall{background:#fff;border:1px solid #d0d7de;border-left:8px solid #6e7781;
border-radius:6px;padding:16px 20px;margin-bottom:16px}
header.overall.pass{border-left-color:#1a7f37}
header.overall.fail{border-left-color:#cf222e}
.verdict{font-size:16px;margin:6px 0}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
color:#fff;background:#6e7781;vertical-align:middle}
.badge.pass{background:#1a7f37}.badge.fail{background:#cf222e}
.badge.insufficient-data{background:#9a6700}
.chips{display:flex;flex-wrap:wrap;gap:8px;margin:10px 0}
.chip{padding:4px 12px;border-radius:14px;text-decoration:none;font-weight:600;
border:2px solid #6e7781;color:#24292f;background:#fff}
.chip.pass{border-color:#1a7f37;color:#1a7f37}.chip.fail{border-color:#cf222e;color:#cf222e}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:16px 20px;
margin-bottom:16px}
section.phase.fail{border-top:6px solid #cf222e}
section.phase.pass{border-top:6px solid #1a7f37}
.rollback{background:#ffebe9;border:2px solid #cf222e;border-radius:6px;padding:10px 14px;
margin:10px 0;color:#82071e}
.rollback h3{margin:0 0 4px;color:#cf222e;font-size:16px}
.reason{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;
white-space:pre-wrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}
figure{margin:0;border:1px solid #eaeef2;border-radius:6px;padding:6px}
figure svg{max-width:100%;height:auto}
figcaption{color:#57606a;font-size:12px;text-align:center}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:4px 0 8px}
th,td{border-bottom:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td ul{margin:0;padding-left:0;list-style:none}
li.ok{color:#1a7f37}li.bad{color:#cf222e;font-weight:600}
code{font-size:11.5px;background:#f6f8fa;padding:0 3px;border-radius:3px}
tr.rollback-row td{background:#ffebe9;color:#82071e;font-weight:600}
.act-rollback{color:#cf222e;font-weight:700}
.problems{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 16px;
margin-bottom:16px}
"""
