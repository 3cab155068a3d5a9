from flask import Flask
from pydantic_ai import Agent

from tasks import reindex, run_task

app = Flask(__name__)
agent = Agent("openai:gpt-4o")


@app.post("/reindex")
def do_reindex():
    run_task(reindex, tree="t")
    return "ok"


@app.post("/chat")
def chat():
    return agent.run_sync("hello").output
