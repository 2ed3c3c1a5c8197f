package tasks

// Member is one resource a selector selected, counted for a health
// digest: how many of its parts are up out of how many should be.
type Member struct {
	// ID is the resource's value of its type's CloudWatch dimension (an
	// instance id, "targetgroup/NAME/ID", "CLUSTER/SERVICE").
	ID string
	// Dims are the further dimensions its metrics are published under (a
	// target group's LoadBalancer; an ECS service's ClusterName and
	// ServiceName).
	Dims map[string]string
	// Up of Expected: 1 of 1 for a running instance, healthy targets of
	// registered ones, running tasks of desired ones.
	Up, Expected int
	// Down says, naming the resource, why not all of it is up
	// ("i-0abc stopped", "web 1 of 3 healthy"); "" when all is.
	Down string
}
