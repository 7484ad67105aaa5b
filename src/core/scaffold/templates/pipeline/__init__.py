"""The training pipeline nb2prod generated from the notebook.

    python -m pipeline                         run every step (see pipeline/run.py)
    python -m pipeline --param max_depth=12    with a parameter changed
    python -m pipeline.golden                  rewrite tests/golden/sample.json
    python -m pipeline.register                register the trained model with nb2prod

pipeline/steps.py (the notebook's sections) and pipeline/config.json are generated; the other
modules are the same in every generated project.
"""
