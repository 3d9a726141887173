"""The peer of our Space app: the fastai + Gradio app.py the fast.ai course deploys.

It loads the Learner that `learn.export()` wrote next to it and serves `learn.predict`
through `gr.Interface`, as lesson 2's Hugging Face Space does. bench/demo.py copies this
file into a folder with export.pkl and times `python app.py` from process start to the
first answer of its API (`/predict`). Host and port come from GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT.
"""

import gradio as gr
from fastai.vision.all import load_learner  # the course star-imports the same module

learn = load_learner("export.pkl")
labels = [str(label) for label in learn.dls.vocab]


def predict(image):
    _, _, probs = learn.predict(image)
    return {label: float(p) for label, p in zip(labels, probs, strict=True)}


demo = gr.Interface(fn=predict, inputs=gr.Image(), outputs=gr.Label())

if __name__ == "__main__":
    demo.launch()
