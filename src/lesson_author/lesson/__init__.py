"""The built lesson: its model, its MDX and notebook renderings, and the LLM schemas that fill it."""
