//! Simulated BeyondTrust appliance and Zendesk instance.
