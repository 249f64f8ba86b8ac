import importlib.util

import numpy as np

from conftest import EXAMPLES


def _load_example():
    spec = importlib.util.spec_from_file_location("youtube_example", EXAMPLES / "youtube_spam" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_youtube_example_end_to_end(tmp_path, capsys):
    example = _load_example()
    labelled = example.main(tmp_path, n_review=5)
    out = capsys.readouterr().out
    assert "most uncertain training comments" in out
    assert len(labelled) == 1586 and labelled.index.is_unique
    assert set(labelled["label"]) <= {-1, 0, 1}
    np.testing.assert_allclose(labelled["prob_spam"].between(0, 1), True)
    for name in ("labelled_train.csv", "L_train.npz", "lf_summary.png"):
        assert (tmp_path / name).stat().st_size > 0
    # Gold labels of the training videos were never used; the weak labels must still agree with them.
    train = example.load_comments(sorted((EXAMPLES / "youtube_spam" / "data").glob("Youtube0*.csv"))[:4])
    covered = labelled["covered"].to_numpy()
    agree = (labelled["label"].to_numpy() == train["gold"].to_numpy())[covered]
    assert agree.mean() > 0.85
