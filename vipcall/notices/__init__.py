"""Notices of new voicemail messages: SMS and email from a durable queue.

rules.py (pure: channels, text, backoff), sms.py (Kannel sendsms), mail.py (SMTP),
worker.py (the queue's worker in the app process).
"""
