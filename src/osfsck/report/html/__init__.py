"""The HTML report: one self-contained file (the CSS, the script, the chart library and
the data inline; nothing fetched), for a mail attachment or an artifact store.

Jinja2 is the `html` extra (pip install 'osfsck[html]'): the checker itself stays without
it.  The chart library is Chart.js, vendored (vendor/, with its licence): see VENDORED."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from osfsck.report.html.data import SEVERITIES, page_data

# the vendored chart library: its npm package and version, and the file taken from it
VENDORED = {"package": "chart.js", "version": "4.6.2", "file": "vendor/chart-4.6.2.umd.min.js"}


class HtmlUnavailable(Exception):
    """Jinja2 is not installed: one line, exit 16 (as every missing extra)."""


def render_html(doc: dict[str, Any]) -> str:
    """The report of a run's JSON document (report.result_dict, or a saved `-f json`)."""
    try:
        import jinja2
    except ImportError:
        raise HtmlUnavailable("-f html needs Jinja2: pip install 'osfsck[html]'") from None
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("osfsck.report.html", "templates"),
        autoescape=True,  # everything a cloud supplied is text, never markup
        undefined=jinja2.StrictUndefined,
    )
    data = page_data(doc)
    return env.get_template("report.html.j2").render(
        data=data,
        data_json=script_json(data),
        severities=SEVERITIES,
        css=_asset("style.css"),
        app_js=_asset("app.js"),
        chart_js=_chart_library(),
        chart_version=VENDORED["version"],
    )


def script_json(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no `</` (which would end
    the element: `</script>` in a finding's message), no `<!--`, and U+2028/2029 as escapes."""
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    for raw, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, esc)
    return text


def _asset(name: str) -> str:
    return (resources.files("osfsck.report.html") / name).read_text(encoding="utf-8")


def _chart_library() -> str:
    """The library as shipped, less its source-map comment: a browser's developer tools
    would fetch the map, and the report fetches nothing."""
    text = _asset(VENDORED["file"])
    return "\n".join(line for line in text.splitlines() if not line.startswith("//# sourceMappingURL="))
