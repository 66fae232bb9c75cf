"""Pure next-best-action decision code, shared by offline evaluation, serving and campaigns."""
