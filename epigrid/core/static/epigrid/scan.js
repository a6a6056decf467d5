// Scan forms (transport's pack, pick-up and receive pages, the checkpoint gate): one scan field per
// form, kept focused for a keyboard-wedge scanner (it types the code and presses Enter, which
// submits), and the phone's camera as a second way to read a code, through BarcodeDetector — the
// browser's own, or the npm `barcode-detector` polyfill with its ZXing .wasm served from our static
// files. A page that handles the submit itself (the gate) clears `data-sending` when it is done.
(function () {
  "use strict";

  const FORMATS = ["code_128", "code_39", "code_93", "codabar", "ean_13", "ean_8", "itf", "qr_code", "data_matrix"];
  let detectorPromise = null;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(src));
      document.head.append(script);
    });
  }

  async function makeDetector(form) {
    const Native = window.BarcodeDetector;
    if (Native && !(window.BarcodeDetectionAPI && Native === window.BarcodeDetectionAPI.BarcodeDetector)) {
      try {
        const formats = await Native.getSupportedFormats();
        if (formats.includes("code_128")) return new Native({ formats: FORMATS.filter((f) => formats.includes(f)) });
      } catch (e) {
        /* fall through to the polyfill */
      }
    }
    if (!window.BarcodeDetectionAPI) await loadScript(form.dataset.polyfillUrl);
    const api = window.BarcodeDetectionAPI;
    const wasmUrl = new URL(form.dataset.wasmUrl, location.href).href;
    await api.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) },
      fireImmediately: true,
    });
    const formats = await api.BarcodeDetector.getSupportedFormats();
    return new api.BarcodeDetector({ formats: FORMATS.filter((f) => formats.includes(f)) });
  }

  function detector(form) {
    if (!detectorPromise) {
      detectorPromise = makeDetector(form).catch((err) => {
        detectorPromise = null;
        throw err;
      });
    }
    return detectorPromise;
  }

  function wire(form) {
    const field = form.querySelector("[data-scan]");
    if (!field) return;
    const view = form.querySelector("[data-camera-view]");
    const video = view && view.querySelector("video");
    const message = form.querySelector("[data-camera-message]");
    let stream = null;

    // Back to the scan field after a tap elsewhere, unless the user went to another field.
    const refocus = () => {
      const active = document.activeElement;
      if (active && active !== document.body && active.matches("input, select, textarea")) return;
      field.focus({ preventScroll: true });
    };
    field.focus({ preventScroll: true });
    document.addEventListener("click", () => setTimeout(refocus, 0));

    // One submit per scan: a scanner's Enter pressed twice must not send the code twice.
    form.addEventListener("submit", (event) => {
      if (form.dataset.sending) event.preventDefault();
      else if (field.value.trim()) form.dataset.sending = "1";
      else event.preventDefault();
    });

    // A page restored from the back-forward cache must take scans again.
    window.addEventListener("pageshow", () => delete form.dataset.sending);

    function stop() {
      if (stream) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      if (view) view.hidden = true;
    }

    async function start() {
      message.textContent = "";
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        message.textContent = "📷 ✕";
        return;
      }
      let reader;
      try {
        reader = await detector(form);
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
      } catch (err) {
        message.textContent = "📷 ✕ " + (err.name || err);
        return;
      }
      video.srcObject = stream;
      view.hidden = false;
      try {
        await video.play();
      } catch (e) {
        /* autoplay refused: the frames still arrive */
      }
      const tick = async () => {
        if (!stream) return;
        try {
          const codes = video.readyState >= 2 ? await reader.detect(video) : [];
          if (codes.length && codes[0].rawValue) {
            field.value = codes[0].rawValue;
            stop();
            form.requestSubmit();
            return;
          }
        } catch (e) {
          /* a frame that could not be read */
        }
        setTimeout(tick, 150);
      };
      tick();
    }

    const open = form.querySelector("[data-camera]");
    if (open && view) open.addEventListener("click", () => (stream ? stop() : start()));
    const close = form.querySelector("[data-camera-stop]");
    if (close) close.addEventListener("click", stop);
  }

  function init() {
    document.querySelectorAll("form.transport-scan, form[data-scan-form]").forEach(wire);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
