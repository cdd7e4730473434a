import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabProcess, run } from './child-process.js';
import { LAB_JANUS_WS_PORT } from './janus-server.js';
import { LAB_JANUS_IP, type LabNetns } from './netns.js';
import { builtDir } from '../worker/paths.js';
import { waitUntil } from './wait.js';

/**
 * Meeting web apps nobody here wrote, served inside the lab's namespace for page mode, on `http://localhost:<port>`
 * (a secure context, as an app's https page is):
 * - `/janus-demos/`: Debian's `janus-demos` (the Janus project's own demo pages, with jQuery, Bootstrap, adapter.js
 *   and janus.js from Debian's `libjs-*` packages), configured the way a deployer configures it: its `settings.js`
 *   names the lab's Janus. `videoroom-roomline.html` is the same VideoRoom page with a small `window.roomline` added
 *   (roomline-api.js, what an app's developers write to let the bridge join without join steps): it presses the demo's
 *   own buttons and lists the feeds the demo shows;
 * - `/chime-app/`: a meeting page built on the Amazon Chime SDK (lab/pages/chime-app), for the lab's Chime stand-in.
 */
export const WEB_APPS_PORT = 8080;
export const JANUS_DEMOS_DIR = '/usr/share/janus/demos';
const JAVASCRIPT_DIR = '/usr/share/javascript';

/** The static server that runs inside the namespace: mounts (prefix → folder), generated files, nothing else. */
const SERVER_SOURCE = `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const [port, mountsJson, generatedDir] = process.argv.slice(1);
const mounts = JSON.parse(mountsJson);
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon', '.woff': 'font/woff', '.woff2': 'font/woff2',
  '.ttf': 'font/ttf', '.json': 'application/json', '.map': 'application/json', '.gif': 'image/gif' };
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const pathname = decodeURIComponent(url.pathname);
  const generated = path.join(generatedDir, path.normalize(pathname));
  let file;
  if (generated.startsWith(generatedDir + path.sep) && fs.existsSync(generated)) file = generated;
  for (const [prefix, dir, roots] of mounts) {
    if (file !== undefined || !pathname.startsWith(prefix)) continue;
    try {
      const real = fs.realpathSync(path.join(dir, path.normalize(pathname.slice(prefix.length))));
      if (roots.some((root) => real === root || real.startsWith(root + path.sep)) && fs.statSync(real).isFile()) file = real;
    } catch {}
  }
  if (file === undefined) { res.writeHead(404).end('not found'); return; }
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
  fs.createReadStream(file).pipe(res);
}).listen(Number(port), '127.0.0.1');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** The demo's `window.roomline`: join by its own Start and Join buttons, people from its list of remote feeds. */
const ROOMLINE_API_JS = `// window.roomline for the Janus VideoRoom demo (see Roomline's docs/rooms.md, "Page mode")
window.roomline = {
  join: function (options) {
    return new Promise(function (resolve, reject) {
      var deadline = Date.now() + 20000;
      $('#start').click();
      var typed = false;
      var timer = setInterval(function () {
        if (!typed && $('#username').is(':visible')) {
          typed = true;
          $('#username').val(options.display);
          $('#register').click();
        }
        if (myid) { clearInterval(timer); resolve(); }
        else if (Date.now() > deadline) { clearInterval(timer); reject(new Error('not joined within 20 s')); }
      }, 100);
    });
  },
  leave: function () { if (janus) janus.destroy(); },
  participants: function () {
    return feeds.filter(Boolean).map(function (feed) { return { id: String(feed.rfid), name: feed.rfdisplay }; });
  },
};
// embedded in another site's page (embed/janus-demo.html): the same, asked for and answered by message
if (window.parent !== window) {
  addEventListener('message', function (event) {
    if (!event.data || event.data.roomlineEmbed !== 'join') return;
    window.roomline.join({ display: event.data.display }).then(function () {
      event.source.postMessage({ roomlineEmbed: 'joined' }, '*');
    });
  });
  addEventListener('load', function () { window.parent.postMessage({ roomlineEmbed: 'ready' }, '*'); });
  setInterval(function () {
    window.parent.postMessage({ roomlineEmbed: 'participants', list: window.roomline.participants() }, '*');
  }, 500);
}
`;

/**
 * A site that embeds the VideoRoom demo from another origin in an iframe, as sites embed a meeting widget, and gives
 * the bridge a window.roomline that asks the widget by message.
 */
const EMBED_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A site with an embedded meeting</title></head>
<body>
<h1>Team room</h1>
<iframe id="meeting" allow="camera; microphone; autoplay" width="800" height="600"></iframe>
<script>
var room = new URLSearchParams(location.search).get('room') || '1234';
var widget = 'http://localhost:' + location.port + '/janus-demos/videoroom-roomline.html?room=' + encodeURIComponent(room);
var frame = document.getElementById('meeting');
var ready = new Promise(function (resolve) {
  addEventListener('message', function (event) { if (event.data && event.data.roomlineEmbed === 'ready') resolve(); });
});
var people = [];
addEventListener('message', function (event) {
  if (event.data && event.data.roomlineEmbed === 'participants') people = event.data.list;
});
frame.src = widget;
window.roomline = {
  join: function (options) {
    return ready.then(function () {
      return new Promise(function (resolve) {
        addEventListener('message', function joined(event) {
          if (!event.data || event.data.roomlineEmbed !== 'joined') return;
          removeEventListener('message', joined);
          resolve();
        });
        frame.contentWindow.postMessage({ roomlineEmbed: 'join', display: options.display }, '*');
      });
    });
  },
  participants: function () { return people; },
};
</script>
</body>
</html>
`;

export class WebApps {
  private constructor(
    private readonly process: LabProcess,
    readonly port: number,
  ) {}

  /** Page-mode URL of the Chime SDK meeting app; its join data (a secret: it holds the JoinToken) goes as `join`. */
  chimeAppUrl(): string {
    return `http://localhost:${this.port}/chime-app/chime-app.html`;
  }

  /**
   * Page-mode URL of a site at another origin (127.0.0.1) that embeds the VideoRoom demo (at localhost) in an iframe;
   * `origin` is the widget's, which the page must also be allowed to reach.
   */
  embeddedVideoRoom(roomId: number): { url: string; origin: string } {
    return {
      url: `http://127.0.0.1:${this.port}/embed/janus-demo.html?room=${roomId}`,
      origin: `http://localhost:${this.port}`,
    };
  }

  /** Page-mode URL of the Janus VideoRoom demo for one of the lab's rooms (`withApi`: the page with window.roomline). */
  janusVideoRoomUrl(roomId: number, options: { withApi?: boolean } = {}): string {
    const page = options.withApi === true ? 'videoroom-roomline.html' : 'videoroomtest.html';
    return `http://localhost:${this.port}/janus-demos/${page}?room=${roomId}`;
  }

  /** `janusToken`: what the apps' settings give janus.js, as a deployer would (the lab's Janus wants a token). */
  static async start(options: { netns: LabNetns; dir: string; janusToken: string }): Promise<WebApps> {
    if (!existsSync(join(JANUS_DEMOS_DIR, 'videoroomtest.html'))) {
      throw new Error(`${JANUS_DEMOS_DIR} is missing: install Debian's janus-demos (npm run system-deps)`);
    }
    const generated = join(options.dir, 'web-apps');
    await mkdir(join(generated, 'janus-demos'), { recursive: true });
    // what a deployer of the demos writes into settings.js: where Janus is, and the token its clients use
    await writeFile(
      join(generated, 'janus-demos', 'settings.js'),
      `var server = "ws://${LAB_JANUS_IP}:${LAB_JANUS_WS_PORT}/";\nvar iceServers = null;\nvar token = ${JSON.stringify(options.janusToken)};\nvar apisecret = null;\n`,
    );
    const demo = await readFile(join(JANUS_DEMOS_DIR, 'videoroomtest.html'), 'utf8');
    await writeFile(
      join(generated, 'janus-demos', 'videoroom-roomline.html'),
      demo.replace('</head>', '<script type="text/javascript" src="roomline-api.js"></script>\n</head>'),
    );
    await writeFile(join(generated, 'janus-demos', 'roomline-api.js'), ROOMLINE_API_JS);
    await mkdir(join(generated, 'embed'), { recursive: true });
    await writeFile(join(generated, 'embed', 'janus-demo.html'), EMBED_HTML);
    const labPages = builtDir('lab-pages', 'chime-app.html');
    const mounts = [
      ['/janus-demos/', JANUS_DEMOS_DIR, [JANUS_DEMOS_DIR, JAVASCRIPT_DIR]],
      ['/chime-app/', labPages, [labPages]],
    ];
    const { command, args } = options.netns.wrap(process.execPath, [
      '-e',
      SERVER_SOURCE,
      String(WEB_APPS_PORT),
      JSON.stringify(mounts),
      generated,
    ]);
    const server = LabProcess.start('web-apps', command, args, {
      logFile: join(options.dir, 'web-apps.log'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const apps = new WebApps(server, WEB_APPS_PORT);
    const listening = options.netns.wrap('ss', ['-ltn']);
    await server.whileRunning(
      waitUntil(async () => (await run(listening.command, listening.args)).includes(`127.0.0.1:${WEB_APPS_PORT}`), {
        timeoutMs: 10_000,
        what: 'the web apps server',
        intervalMs: 100,
      }),
    );
    return apps;
  }

  stop(): Promise<void> {
    this.process.child.stdin?.end();
    return this.process.stop();
  }
}
