"""The README's quickstart must run as written and give sensible labels."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_quickstart_runs_and_labels_follow_the_votes():
    code = re.search(r"## Quickstart\n\n```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    L, probs = namespace["L"], namespace["probs"]
    assert L.shape == (4, 3) and L.lf_names == ("check_out", "short", "subscribe")
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    # Rows where only SPAM LFs fire lean SPAM; rows where only the HAM LF fires lean HAM.
    votes = np.asarray(L)
    only_spam = ((votes == 1).any(axis=1)) & ~((votes == 0).any(axis=1))
    only_ham = ((votes == 0).any(axis=1)) & ~((votes == 1).any(axis=1))
    assert only_ham.any()
    assert (probs[only_ham, 0] > 0.5).all()
    assert (probs[only_spam, 1] > 0.5).all()
