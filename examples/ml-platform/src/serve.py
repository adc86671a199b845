"""Serve the model with a Gradio demo."""

import gradio as gr
import joblib
import keras

model = joblib.load("models/classifier.pkl")
embedder = keras.saving.load_model("models/embedder.keras")


def predict(text: str) -> str:
    return str(model.predict([text])[0])


demo = gr.Interface(fn=predict, inputs="text", outputs="text")
demo.launch(server_name="0.0.0.0", share=True)
