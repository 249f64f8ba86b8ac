import pytest

from labeling import ABSTAIN, LabelingFunction, Row, check_unique_names, labeling_function, preprocessor


def test_decorator_without_parentheses_is_caught():
    with pytest.raises(TypeError, match=r"missing its parentheses: write @labeling_function\(\)"):

        @labeling_function
        def lf(x):
            return ABSTAIN

    with pytest.raises(TypeError, match=r"@preprocessor\(\)"):

        @preprocessor
        def pre(x):
            return x


def test_lf_is_a_plain_callable_with_metadata():
    @labeling_function(name="has_word", resources={"word": "song"})
    def lf(x, word):
        return 0 if word in x.text else ABSTAIN

    assert isinstance(lf, LabelingFunction)
    assert lf.name == "has_word" and lf.resources == {"word": "song"} and not lf.vectorized
    assert lf(Row(text="nice song")) == 0
    assert lf(Row(text="subscribe")) == ABSTAIN
    assert lf.__doc__ is None and lf.__wrapped__ is not None


def test_duplicate_names_are_rejected():
    a = LabelingFunction("same", lambda x: 0)
    b = LabelingFunction("same", lambda x: 1)
    with pytest.raises(ValueError, match=r"Two LFs are named 'same' \(positions 0 and 1\)"):
        check_unique_names([a, b])
    with pytest.raises(TypeError, match=r"lfs\[1\] is a function"):
        check_unique_names([a, lambda x: 0])


def test_memoized_preprocessor_runs_once_per_distinct_row_and_does_not_leak_changes():
    calls = []

    @preprocessor(memoize=True)
    def words(x):
        calls.append(x.text)
        x.words = x.text.lower().split()
        return x

    @labeling_function(pre=[words])
    def lf_my(x):
        return 1 if "my" in x.words else ABSTAIN

    @labeling_function(pre=[words])
    def lf_song(x):
        return 0 if "song" in x.words else ABSTAIN

    row = Row(text="My song")
    assert lf_my(row) == 1 and lf_song(row) == 0
    assert calls == ["My song"]
    assert "words" not in row  # the caller's row is never modified


def test_preprocessor_must_return_the_row():
    @preprocessor()
    def forgot(x):
        x.clean = x.text.strip()

    lf = LabelingFunction("lf", lambda x: 0, pre=[forgot])
    with pytest.raises(TypeError, match="Preprocessor 'forgot' returned None"):
        lf(Row(text=" a "))


def test_pre_must_hold_preprocessors():
    with pytest.raises(TypeError, match="pre= takes Preprocessor objects"):
        LabelingFunction("lf", lambda x: 0, pre=[str.lower])


def test_row_access_errors_list_fields():
    with pytest.raises(AttributeError, match=r"Row has no field 'txt'; its fields are \['text'\]"):
        Row(text="a").txt
