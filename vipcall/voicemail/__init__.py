"""Voicemail: leaving messages now; greetings, retrieval and notices come later."""
