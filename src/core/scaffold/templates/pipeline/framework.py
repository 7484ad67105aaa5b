"""The small framework pipeline/steps.py is written in: the ``step`` decorator and its errors.

A step is a plain function. ``@step(outputs=[...], retries=N)`` only attaches metadata, so the
function stays callable as it is (handy in tests and notebooks)::

    @step(outputs=["X", "y"])
    def features(df):
        ...
        return X, y

- positional parameters are names from the pipeline's namespace (outputs of earlier steps);
- keyword-only parameters (after ``*``) are the notebook's parameters, set in
  pipeline/config.json "params" and overridable with ``python -m pipeline --param name=value``;
- a step with one output returns the value, with several a tuple in ``outputs`` order, with none
  returns None;
- ``retries`` is how many times the runner tries the step again when it raises (for flaky I/O:
  downloads, databases), with exponential backoff.
"""
from typing import Callable, NamedTuple, Optional, Sequence, Tuple

STEP_ATTRIBUTE = "__nb2prod_step__"


class StepInfo(NamedTuple):
    name: str
    outputs: Tuple[str, ...]
    retries: int


class PipelineError(Exception):
    """The pipeline cannot go on: a step failed or its data broke a rule (exit code 1)."""

    def __init__(self, message: str, step: Optional[str] = None):
        super().__init__(message)
        self.step = step
        self.attempts = 0  # how many times the step ran before giving up (0: it never started)


class UsageError(Exception):
    """The pipeline was called wrongly or is configured wrongly (exit code 2)."""


def step(outputs: Sequence[str] = (), retries: int = 0) -> Callable:
    """Marks a function as a pipeline step producing *outputs*, retried *retries* times."""
    if isinstance(outputs, str):
        outputs = [outputs]  # @step(outputs="df") means one output, not three letters
    outputs = tuple(outputs)
    for name in outputs:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError("step outputs must be Python names, not %r" % (name,))
    if len(set(outputs)) != len(outputs):
        raise ValueError("step outputs must be distinct: %s" % list(outputs))
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError("step retries must be an int >= 0, not %r" % (retries,))

    def mark(fn: Callable) -> Callable:
        setattr(fn, STEP_ATTRIBUTE, StepInfo(fn.__name__, outputs, retries))
        return fn

    return mark


def step_info(fn: Callable) -> StepInfo:
    """The metadata @step attached to *fn*; a UsageError when it was not decorated."""
    info = getattr(fn, STEP_ATTRIBUTE, None)
    if not isinstance(info, StepInfo):
        raise UsageError("%s in pipeline.steps.STEPS is not a step: decorate it with "
                         "@step(outputs=[...]) from pipeline.framework"
                         % getattr(fn, "__name__", repr(fn)))
    return info
