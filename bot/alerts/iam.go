package alerts

// IAMActions are the permissions the watcher needs in each app's account
// (role of scheduler:<app>).
func IAMActions() []string { return []string{"cloudwatch:DescribeAlarms"} }
