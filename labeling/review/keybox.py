"""The review widget's shortcut box: each key typed in it reaches the kernel as one message.

A plain ``ipywidgets.Text`` syncs its whole *value*, and a box the kernel clears after each key
races with the browser that keeps typing: under load a key could be read against the wrong text
and lost or applied twice. Here the browser never changes the box's text at all; its ``keydown``
handler sends every key as a custom widget message. Messages on one widget's comm arrive in the
order sent and each is handled once, so a key is neither dropped nor repeated, however far the
kernel lags behind the typist.

The front end is a few lines of JavaScript run by ``anywidget`` (part of the ``notebook`` extra),
which works in JupyterLab, Notebook 7, VS Code and Colab without a build step of our own.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

__all__ = ["key_box", "KEY_MESSAGE"]

#: The ``event`` field of the message the browser sends for one key.
KEY_MESSAGE = "vw-key"

# Keys with a modifier (browser and JupyterLab shortcuts), named keys (Tab, arrows, Enter), key
# repeat from a held key and IME composition are left to the browser; only a single typed
# character is taken, and it never enters the box, so the box stays empty.
_ESM = """
export default {
  render({ model, el }) {
    const box = document.createElement("input");
    box.type = "text";
    box.className = "widget-input vw-keys-input";
    box.placeholder = model.get("placeholder");
    box.setAttribute("aria-label", model.get("placeholder"));
    box.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || event.repeat) return;
      if (event.key.length !== 1) return;
      event.preventDefault();
      event.stopPropagation();
      model.send({ event: "%s", key: event.key });
    });
    el.appendChild(box);
  },
};
""" % KEY_MESSAGE

_CSS = ".vw-keys-input { width: 100%; box-sizing: border-box; }"


@functools.lru_cache(maxsize=1)
def _key_box_class() -> Any:
    try:
        import anywidget
        from traitlets import Unicode
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The review widget's shortcut box needs anywidget; install it with: pip install 'votewise[notebook]'"
        ) from exc

    class KeyBox(anywidget.AnyWidget):
        """A text box whose typed keys are sent to the kernel one message per key."""

        _esm = _ESM
        _css = _CSS
        placeholder = Unicode("").tag(sync=True)

    return KeyBox


def key_box(on_key: Callable[[str], None], *, placeholder: str = "", width: str = "260px") -> Any:
    """A shortcut box that calls ``on_key(key)`` once per key typed in it, in the order typed.

    Parameters
    ----------
    on_key : callable
        Called with the typed character (a string of length one) for each key.
    placeholder : str, default ""
        Grey text shown in the empty box; it says which keys do what.
    width : str, default "260px"
        CSS width of the box.

    Returns
    -------
    anywidget.AnyWidget
        The box, ready to place in an ipywidgets layout.
    """
    from ipywidgets import Layout

    box = _key_box_class()(placeholder=placeholder, layout=Layout(width=width))

    def handle(_widget: Any, content: Any, _buffers: Any) -> None:
        # Anything else on this comm (a newer front end, a hand-made message) is not a key.
        if isinstance(content, dict) and content.get("event") == KEY_MESSAGE:
            key = content.get("key")
            if isinstance(key, str) and len(key) == 1:
                on_key(key)

    box.on_msg(handle)
    return box
