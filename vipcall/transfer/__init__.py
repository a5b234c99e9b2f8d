"""Mid-call blind transfer (``*#*1`` number ``#``): Asterisk detects the keys in the bridge
(features.conf ``vipxfer``), the app only checks the number and decides the new call."""
