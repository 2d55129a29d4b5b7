"""The coach's chat: a creator's messages answered through the metered AI gateway, with the decisions, task
completions and next steps found in each exchange (by Anthropic's tool use when the AI answers, and always by the
deterministic pattern detector on the user's message)."""
