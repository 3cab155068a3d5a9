"""Account safety around `controlplane.users`: password policy, the login throttle shared by
replicas, named API tokens, and the lifecycle of users (disable, role, passwd), each logged."""
