import { createHash } from 'node:crypto';
import { FEED_PAGE_SCRIPT } from './feed-page.script.js';
import { FEED_PAGE_STYLE } from './feed-page.style.js';

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The live feed page (`GET /`): self-contained, no external resources, stable `data-testid`s for browser tests. */
export const FEED_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Q&amp;A feed · Tidings</title>
<style>${FEED_PAGE_STYLE}</style>
</head>
<body>
<header>
  <div class="bar">
    <h1>Q&amp;A feed <span>newest questions, live</span></h1>
    <span class="status" data-testid="stream-status" data-state="connecting" role="status">Connecting…</span>
  </div>
  <form data-testid="filters" role="search">
    <label class="grow">Subject
      <input data-testid="filter-subject" name="subject" list="subjects" placeholder="Any subject" autocomplete="off" maxlength="60">
    </label>
    <datalist id="subjects"></datalist>
    <label>Grade
      <select data-testid="filter-grade" name="grade"><option value="">Any grade</option></select>
    </label>
    <label>Answers
      <select data-testid="filter-answered" name="answered">
        <option value="">Any</option>
        <option value="true">Answered</option>
        <option value="false">Unanswered</option>
      </select>
    </label>
  </form>
</header>
<main>
  <div class="error" data-testid="feed-error" role="alert" hidden></div>
  <ol data-testid="feed-list" aria-live="polite"></ol>
  <p class="empty" data-testid="feed-empty" hidden>No questions match these filters yet.</p>
  <button class="more" type="button" data-testid="load-more" hidden>Load older questions</button>
</main>
<script>${FEED_PAGE_SCRIPT}</script>
</body>
</html>
`;

/**
 * The page's Content-Security-Policy: only its own inline script and style (by hash, so nothing injected into the
 * page could run) and requests to this origin.
 */
export const FEED_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(FEED_PAGE_SCRIPT)}`,
  `style-src ${sha256(FEED_PAGE_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
