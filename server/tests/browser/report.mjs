// Opens the server's weekly report page in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core), waits until the charts are
// drawn, saves a screenshot and prints what it saw as JSON: the pixels of
// each chart colour in the screenshot, and the data the charts were built
// with. Usage: node report.mjs <url> <bearer token> <screenshot.png> <colour>...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// The packages live in the folder scripts/browser.sh installed them to.
const require = createRequire(`${process.env.SAFELANE_NODE_MODULES}/`);
const { chromium } = require("playwright-core");
const { PNG } = require("pngjs");

const [url, token, out, ...colours] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({
    viewport: { width: 1200, height: 900 },
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  const resp = await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-charts-ready=true]", { timeout: 15000 });
  await page.screenshot({ path: out, fullPage: true });
  const charts = await page.evaluate(() => {
    const get = (id) => {
      const c = Chart.getChart(document.getElementById(id));
      return { labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) };
    };
    return { byDay: get("events-by-day"), trend: get("score-trend") };
  });
  const png = PNG.sync.read(readFileSync(out));
  const counts = Object.fromEntries(colours.map((c) => [c, 0]));
  const wanted = colours.map((c) => [c, parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)]);
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    for (const [c, wr, wg, wb] of wanted) {
      if (r === wr && g === wg && b === wb) counts[c]++;
    }
  }
  console.log(JSON.stringify({
    status: resp.status(),
    csp: resp.headers()["content-security-policy"] || "",
    title: await page.title(),
    score: await page.textContent("#score"),
    insight: await page.textContent("#insight"),
    instanceRows: await page.locator("#instances tbody tr").count(),
    width: png.width, height: png.height,
    pixels: counts, charts, errors,
  }));
} finally {
  await browser.close();
}
