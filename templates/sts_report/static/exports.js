/* stsanalysis report: figure files made in the browser, offline (no server, no CDN, no library).
   - stsExports.savePng: a figure's PNG from plotly.js with its resolution written in (pHYs).
   - stsExports.saveAllFigures: every figure as SVG (plotly.js) in one uncompressed ZIP.
   The print size (17 cm, 300 dpi) is window.stsPrintImageOptions, defined by each figure's
   own script (stsanalysis/report/display.py). */
(function () {
  'use strict';

  var CRC_TABLE = (function () {
    var table = new Uint32Array(256);
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) { c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1; }
      table[n] = c >>> 0;
    }
    return table;
  })();

  // CRC-32 (ISO 3309), as ZIP and PNG use it.
  function crc32(bytes) {
    var crc = 0xFFFFFFFF;
    for (var i = 0; i < bytes.length; i++) { crc = CRC_TABLE[(crc ^ bytes[i]) & 0xFF] ^ (crc >>> 8); }
    return (crc ^ 0xFFFFFFFF) >>> 0;
  }

  // A ZIP archive of files stored uncompressed (method 0, "STORE"): local header and data of
  // each file, then the central directory and its end record (PKWARE APPNOTE 4.3). Names are
  // UTF-8 (flag bit 11). Files of a report are far below ZIP's 4 GB limit: no ZIP64.
  function zipStore(files) {
    var encoder = new TextEncoder(), parts = [], directory = [], offset = 0, now = new Date();
    var time = (now.getHours() << 11) | (now.getMinutes() << 5) | (now.getSeconds() >> 1);
    var date = ((now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
    files.forEach(function (file) {
      var name = encoder.encode(file.name), crc = crc32(file.bytes), size = file.bytes.length;
      var local = new DataView(new ArrayBuffer(30));
      [[0, 0x04034b50, 4], [4, 20, 2], [6, 0x0800, 2], [8, 0, 2], [10, time, 2], [12, date, 2],
       [14, crc, 4], [18, size, 4], [22, size, 4], [26, name.length, 2], [28, 0, 2]].forEach(function (field) {
        if (field[2] === 4) { local.setUint32(field[0], field[1], true); } else { local.setUint16(field[0], field[1], true); }
      });
      var entry = new DataView(new ArrayBuffer(46));
      [[0, 0x02014b50, 4], [4, 20, 2], [6, 20, 2], [8, 0x0800, 2], [10, 0, 2], [12, time, 2], [14, date, 2],
       [16, crc, 4], [20, size, 4], [24, size, 4], [28, name.length, 2], [42, offset, 4]].forEach(function (field) {
        if (field[2] === 4) { entry.setUint32(field[0], field[1], true); } else { entry.setUint16(field[0], field[1], true); }
      });
      parts.push(local, name, file.bytes);
      directory.push(entry, name);
      offset += 30 + name.length + size;
    });
    var directorySize = directory.reduce(function (total, part) { return total + part.byteLength; }, 0);
    var end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, files.length, true);
    end.setUint16(10, files.length, true);
    end.setUint32(12, directorySize, true);
    end.setUint32(16, offset, true);
    return new Blob(parts.concat(directory, [end]), {type: 'application/zip'});
  }

  // The PNG with a pHYs chunk after IHDR (any other pHYs dropped): dpi as pixels per metre.
  function pngWithDpi(png, dpi) {
    var view = new DataView(png.buffer, png.byteOffset, png.byteLength), chunks = [png.subarray(0, 8)];
    for (var at = 8; at < png.length; at += 12 + view.getUint32(at)) {
      var type = String.fromCharCode.apply(null, png.subarray(at + 4, at + 8));
      if (type !== 'pHYs') { chunks.push(png.subarray(at, at + 12 + view.getUint32(at))); }
      if (type === 'IHDR') {
        var chunk = new Uint8Array(21), fields = new DataView(chunk.buffer), perMetre = Math.round(dpi / 0.0254);
        fields.setUint32(0, 9);
        chunk.set([0x70, 0x48, 0x59, 0x73], 4);  // "pHYs"
        fields.setUint32(8, perMetre);
        fields.setUint32(12, perMetre);
        chunk[16] = 1;  // unit: metre
        fields.setUint32(17, crc32(chunk.subarray(4, 17)));
        chunks.push(chunk);
      }
    }
    return new Blob(chunks, {type: 'image/png'});
  }

  function save(blob, filename) {
    var link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 60000);
  }

  function dataUrlBytes(url) {
    var comma = url.indexOf(','), payload = url.slice(comma + 1);
    if (url.slice(0, comma).indexOf(';base64') >= 0) {
      return Uint8Array.from(atob(payload), function (character) { return character.charCodeAt(0); });
    }
    return new TextEncoder().encode(decodeURIComponent(payload));
  }

  function printOptions(figure, format) {
    return window.stsPrintImageOptions ? window.stsPrintImageOptions(figure, format) : {format: format};
  }

  function slug(figure, index) {
    var title = ((figure.layout || {}).title || {}).text || '';
    var words = title.replace(/<[^>]*>/g, ' ').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
    return 'figure-' + String(index + 1).padStart(2, '0') + (words ? '-' + words : '') + '.svg';
  }

  window.stsExports = {
    crc32: crc32,
    zipStore: zipStore,
    savePng: function (figure, options, dpi) {
      return Plotly.toImage(figure, options).then(function (url) {
        save(pngWithDpi(dataUrlBytes(url), dpi), (options.filename || 'figure') + '.png');
      });
    },
    // Every figure of the report as an SVG at print size, one after the other, in one ZIP.
    saveAllFigures: function (button) {
      var figures = Array.prototype.slice.call(document.querySelectorAll('.plotly-graph-div'));
      var label = button.textContent, files = [];
      button.disabled = true;
      button.textContent = 'Preparing ' + figures.length + ' figures…';
      var done = figures.reduce(function (previous, figure, index) {
        return previous.then(function () {
          return Plotly.toImage(figure, printOptions(figure, 'svg')).then(function (url) {
            files.push({name: slug(figure, index), bytes: dataUrlBytes(url)});
          });
        });
      }, Promise.resolve());
      return done.then(function () { save(zipStore(files), button.getAttribute('data-filename') || 'figures.zip'); })
        .finally(function () { button.disabled = false; button.textContent = label; });
    }
  };

  document.addEventListener('DOMContentLoaded', function () {
    var button = document.getElementById('sts-figures-zip');
    if (button && !document.querySelector('.plotly-graph-div')) { button.hidden = true; }
  });
})();
