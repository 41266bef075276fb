"""The language-model coder: a model behind an OpenAI-compatible chat endpoint (Ollama, llama.cpp's server,
vLLM, a hosted service) asked, unit by unit, which of the codebook's codes apply.

- ``endpoint``: where the model runs, whether that is this machine, and the API key (from the environment only);
- ``prompt``: the prompt built from the codebook, the answer's JSON schema, the prompt hash and the strict parser;
- ``client``: one chat request with retries and back-off (the ``openai`` client, loaded only when a run starts);
- ``plan`` and ``store``: the units a run covers, the cache, and the run's records in the database;
- ``coder``: a run: plan, ask concurrently, store each batch of answers as suggestions in a short transaction.

Its suggestions are codings of origin ``llm`` by the coder ``llm@<model>@<prompt hash>``, stored and reviewed like
those of the rule and model coders, and they count nowhere until a person accepts them.
"""
