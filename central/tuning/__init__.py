"""Rules tuned from reviewers' decisions: precision per camera and rule over time, and "what if" re-judging of
stored rule traces under other thresholds. Reads only; no decision is ever changed here."""
