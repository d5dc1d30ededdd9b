"""What every page must satisfy in the browser: an axe-core audit, no console errors, only local requests.

axe-core is vendored under tests/vendor (never served by the platform) and injected into the page by
Playwright, after the page's own scripts have run.
"""

from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "vendor" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def axe_violations(page, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[str]:
    """Readable lines, one per violated rule of the given impacts (WCAG 2.x A/AA and best practices)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.slice(0, 5).map(
                n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 200))}));
    }""")
    return [f"{v['impact']} {v['id']}: {v['help']} -> {v['targets']}" for v in result if v["impact"] in impacts]


class RequestLog:
    """Console errors, page errors, failed requests and requests to any host but the live server."""

    def __init__(self, page, origin: str):
        self.origin = origin
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.external: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(f"{page.url}: {msg.text}"))
        page.on("pageerror", lambda exc: self.console_errors.append(f"{page.url}: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("request", self._request)

    def _failed(self, request) -> None:
        if request.failure != "net::ERR_ABORTED":  # cancelled by a navigation or a newer map view: not an error
            self.failed.append(f"{request.url} ({request.failure})")

    def _request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.origin) or url.startswith(("data:", "blob:", "about:"))):
            self.external.append(url)

    def problems(self) -> list[str]:
        return ([f"console: {e}" for e in self.console_errors] + [f"failed: {u}" for u in self.failed]
                + [f"external: {u}" for u in self.external])


def horizontal_overflow(page) -> int:
    """Pixels the page is wider than the window (a responsive page has none)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def covered_controls(page) -> list[str]:
    """Links and form controls (outside maps) that something else covers at their centre: overlapping
    layout, the usual way a page breaks on a smaller screen. Scrolls each into view to test it."""
    return page.evaluate("""() => {
        const out = [];
        const nodes = document.querySelectorAll(
            'main a[href], main button, main input:not([type=hidden]), main select, main textarea');
        for (const el of nodes) {
            if (el.closest('.leaflet-container, .visually-hidden, .skip-link')) continue;
            const style = getComputedStyle(el);
            if (el.offsetParent === null || style.visibility === 'hidden') continue;
            el.scrollIntoView({block: 'center', inline: 'center'});
            const r = el.getClientRects()[0];  // the first line box: a wrapped link's centre may be in a gap
            if (!r || r.width === 0 || r.height === 0) continue;
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (hit && hit !== el && !el.contains(hit) && !(el.labels && [...el.labels].includes(hit))) {
                const name = el.id ? '#' + el.id : el.tagName.toLowerCase() + ' ' + el.textContent.trim().slice(0, 30);
                const cls = hit.className ? '.' + String(hit.className).split(' ')[0] : '';
                out.push(name + ' covered by ' + hit.tagName.toLowerCase() + cls);
            }
        }
        window.scrollTo(0, 0);
        document.querySelector('main').scrollTo(0, 0);
        return out;
    }""")
