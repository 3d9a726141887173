"""Turn model bundles (models/README.md) into Gradio apps: serve them locally, write
Hugging Face Space folders, deploy them.

Library first: `demos.runtime.load(folder)` and `demos.runtime.build_app(model)` for one
bundle, `demos.serve.create_app(models_dir)` for all of them; `python -m demos --help` for
the command line. Importing this package is cheap: gradio and onnxruntime load on first use.
"""
