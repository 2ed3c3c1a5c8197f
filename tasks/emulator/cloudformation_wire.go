package emulator

// The awsQuery XML shapes of CloudFormation's answers (lists are
// <Name><member>…</member></Name>).

type cfnXMLParam struct {
	ParameterKey   string `xml:"ParameterKey"`
	ParameterValue string `xml:"ParameterValue"`
}

type cfnXMLTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type cfnXMLOutput struct {
	OutputKey   string `xml:"OutputKey"`
	OutputValue string `xml:"OutputValue"`
}

type cfnXMLStack struct {
	StackID           string         `xml:"StackId"`
	StackName         string         `xml:"StackName"`
	StackStatus       string         `xml:"StackStatus"`
	StackStatusReason string         `xml:"StackStatusReason,omitempty"`
	CreationTime      string         `xml:"CreationTime"`
	LastUpdatedTime   string         `xml:"LastUpdatedTime,omitempty"`
	RoleARN           string         `xml:"RoleARN,omitempty"`
	Parameters        []cfnXMLParam  `xml:"Parameters>member"`
	Outputs           []cfnXMLOutput `xml:"Outputs>member"`
	Tags              []cfnXMLTag    `xml:"Tags>member"`
	DriftInformation  struct {
		StackDriftStatus   string `xml:"StackDriftStatus"`
		LastCheckTimestamp string `xml:"LastCheckTimestamp,omitempty"`
	} `xml:"DriftInformation"`
}

type cfnXMLResource struct {
	StackName          string `xml:"StackName"`
	StackID            string `xml:"StackId"`
	LogicalResourceID  string `xml:"LogicalResourceId"`
	PhysicalResourceID string `xml:"PhysicalResourceId"`
	ResourceType       string `xml:"ResourceType"`
	ResourceStatus     string `xml:"ResourceStatus"`
	Timestamp          string `xml:"Timestamp"`
}

type cfnXMLEvent struct {
	StackID              string `xml:"StackId"`
	StackName            string `xml:"StackName"`
	EventID              string `xml:"EventId"`
	LogicalResourceID    string `xml:"LogicalResourceId"`
	PhysicalResourceID   string `xml:"PhysicalResourceId"`
	ResourceType         string `xml:"ResourceType"`
	ResourceStatus       string `xml:"ResourceStatus"`
	ResourceStatusReason string `xml:"ResourceStatusReason,omitempty"`
	ClientRequestToken   string `xml:"ClientRequestToken,omitempty"`
	Timestamp            string `xml:"Timestamp"`
}

type cfnXMLChangeSet struct {
	ChangeSetName   string         `xml:"ChangeSetName"`
	ChangeSetID     string         `xml:"ChangeSetId"`
	StackID         string         `xml:"StackId"`
	StackName       string         `xml:"StackName"`
	Description     string         `xml:"Description,omitempty"`
	Status          string         `xml:"Status"`
	StatusReason    string         `xml:"StatusReason,omitempty"`
	ExecutionStatus string         `xml:"ExecutionStatus"`
	CreationTime    string         `xml:"CreationTime"`
	RoleARN         string         `xml:"RoleARN,omitempty"`
	Parameters      []cfnXMLParam  `xml:"Parameters>member"`
	Tags            []cfnXMLTag    `xml:"Tags>member"`
	Changes         []cfnXMLChange `xml:"Changes>member"`
}

type cfnXMLChange struct {
	Type           string               `xml:"Type"`
	ResourceChange cfnXMLResourceChange `xml:"ResourceChange"`
}

type cfnXMLResourceChange struct {
	Action             string         `xml:"Action"`
	LogicalResourceID  string         `xml:"LogicalResourceId"`
	PhysicalResourceID string         `xml:"PhysicalResourceId,omitempty"`
	ResourceType       string         `xml:"ResourceType"`
	Replacement        string         `xml:"Replacement,omitempty"`
	Scope              []string       `xml:"Scope>member"`
	Details            []cfnXMLDetail `xml:"Details>member"`
}

type cfnXMLDetail struct {
	Target struct {
		Attribute          string `xml:"Attribute"`
		Name               string `xml:"Name"`
		RequiresRecreation string `xml:"RequiresRecreation"`
		BeforeValue        string `xml:"BeforeValue,omitempty"`
		AfterValue         string `xml:"AfterValue,omitempty"`
	} `xml:"Target"`
	Evaluation   string `xml:"Evaluation"`
	ChangeSource string `xml:"ChangeSource"`
}

type cfnXMLDrift struct {
	StackID                  string               `xml:"StackId"`
	LogicalResourceID        string               `xml:"LogicalResourceId"`
	PhysicalResourceID       string               `xml:"PhysicalResourceId"`
	ResourceType             string               `xml:"ResourceType"`
	StackResourceDriftStatus string               `xml:"StackResourceDriftStatus"`
	Timestamp                string               `xml:"Timestamp"`
	PropertyDifferences      []cfnXMLPropertyDiff `xml:"PropertyDifferences>member"`
}

type cfnXMLPropertyDiff struct {
	PropertyPath   string `xml:"PropertyPath"`
	ExpectedValue  string `xml:"ExpectedValue"`
	ActualValue    string `xml:"ActualValue"`
	DifferenceType string `xml:"DifferenceType"`
}
