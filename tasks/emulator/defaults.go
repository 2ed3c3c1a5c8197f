package emulator

// registerDefaults installs the overrides that fill kumo's gaps. Each
// service's fill-ins live in their own file (ec2.go, rds.go, ...) and are
// wired here explicitly, in one visible list.
func (s *Server) registerDefaults() {
	s.registerEC2()
	s.registerSTS()
	s.registerAutoScaling()
	s.registerELBv2()
	s.registerELBv2LoadBalancers()
	s.registerRDS()
	s.registerCloudWatch()
	s.registerCostExplorer()
	s.registerECS()
	s.registerIAM()
	s.registerRDSLifecycle()
	s.registerEC2Modify()
	s.registerCloudFormation()
	s.registerLambda()
	s.registerEC2Images()
	s.registerEKS()
	s.registerElastiCache()
	s.registerNetwork()
	s.registerSQS()
	s.registerKinesis()
	s.registerSSM()
	s.registerKMS()
	s.registerSecretsManager()
	s.registerECR()
	s.registerDynamoDB()
	s.registerBackup()
	s.registerConfig()
	s.registerStepFunctions()
	s.registerOpenSearch()
	s.registerEMR()
}
